"""The casework vocabulary, declared once: verdict and ring-status codes, and the words each is shown as.

Code values are what ledgers store and what code compares; labels are for people (the
dashboard, the review, one-line summaries); option words are what ``ringwatch decide --as``
accepts.
"""

from __future__ import annotations

VERDICTS = ("confirmed_fraud", "false_positive", "needs_review")
VERDICT_LABELS = {"confirmed_fraud": "confirmed fraud", "false_positive": "false positive",
                  "needs_review": "needs review"}
VERDICT_OPTIONS = {"fraud": "confirmed_fraud", "false-positive": "false_positive", "review": "needs_review"}

# A scored linked group is flagged (a ring), held back by a false-positive decision, or benign.
RING_STATUSES = ("flagged", "held_back", "benign")
STATUS_LABELS = {"flagged": "flagged", "held_back": "held back (false positive)", "benign": "benign"}


def verdict_label(verdict) -> str:
    """A verdict code in words (an unknown value as it is)."""
    return VERDICT_LABELS.get(verdict, str(verdict))


def decision_line(row) -> str:
    """One line for a decision: verdict, who and the day."""
    return f"{verdict_label(row['verdict'])} · {row['analyst']} · {str(row['at'])[:10]}"
