"""The column contracts of the engine seam: what the store keeps, and what each question answers.

Stored records take their columns from the data contract (``ingest.schema``), so a column
added there reaches every engine from this one place. Every engine answers the seam's
questions with exactly the columns listed here, in this order.
"""

from __future__ import annotations

from ringwatch.ingest.identifiers import IDENTIFIER_COLUMNS as _IDENTIFIERS
from ringwatch.ingest.schema import OUTPUT_COLUMNS, QUARANTINE_COLUMNS

from .errors import EngineError

ACCOUNT_COLUMNS = list(OUTPUT_COLUMNS["signups"])
USAGE_COLUMNS = list(OUTPUT_COLUMNS["usage"])
LABEL_COLUMNS = list(OUTPUT_COLUMNS["labels"])
IDENTIFIER_COLUMNS = list(_IDENTIFIERS)

# Every table an engine stores records in, with its columns. Engines keep other things too
# (indexes, account numbers, result tables), but these are the records the seam reads and
# writes through ``Engine._insert`` / ``_select`` / ``_delete``.
TABLES: dict[str, list[str]] = {
    "accounts": ACCOUNT_COLUMNS,
    "identifiers": IDENTIFIER_COLUMNS,
    "usage": USAGE_COLUMNS,
    "labels": LABEL_COLUMNS,
    "quarantine": list(QUARANTINE_COLUMNS),
    "loaded_files": ["kind", "digest", "source", "rows"],
    "ledger": ["ledger", "seq", "body"],
}

# Detection results, replaced as a whole by each run (``Engine.save_results``): the results
# proper, the Overview's counts precomputed from them (``reports.overview_tables``), and the
# revision every save renews (``Engine.results_version``).
RESULT_TABLES = ("accounts", "rings", "ring_evidence", "suppressed_hubs", "runs", "traffic", "signups_daily",
                 "risk_bins", "revision")

# Append-only ledgers: analysts' decisions, ban batches, their approvals, exports, unbans,
# ring-score models trained on analysts' labels (``detection.training``), store policy
# changes (``casework.policy``), review-queue takes, releases and comments
# (``casework.queue``), the hash-chained audit log that records all of them
# (``casework.audit``), and every detection run's ring lineage events (``detection.lineage``).
LEDGERS = ("decisions", "batches", "approvals", "exports", "unbans", "models", "policy", "queue", "audit",
           "lineage")

# What the questions answer.
DEGREE_COLUMNS = ["kind", "value", "accounts"]
HISTOGRAM_COLUMNS = ["kind", "accounts", "values"]
PAIR_COLUMNS = ["a", "b", "family", "score", "shared"]
SIMILARITY_COLUMNS = ["a", "b", "similarity", "common"]
GROUP_COLUMNS = ["account_id", "group"]
USAGE_SUMMARY_COLUMNS = ["account_id", "requests", "input_tokens", "output_tokens", "first_ts", "last_ts",
                         "active_days", "prompts"]
PROMPT_SUMMARY_COLUMNS = ["prompt_fingerprint", "accounts", "requests"]
MEMBER_USAGE_COLUMNS = ["account_id", "bucket", "prompt_fingerprint", "requests", "input_tokens", "output_tokens"]
USAGE_BY_GROUP_COLUMNS = ["group", "bucket", "requests", "output_tokens", "last_ts"]
HOLDER_COLUMNS = ["account_id", "kind", "value", "holders"]
COUNT_KEYS = ("accounts", "identifiers", "usage_rows", "labels", "quarantined")


def account_columns(columns: list[str] | None) -> list[str]:
    """The account columns asked for, account_id first; refuses a name that is not an account column."""
    if columns is None:
        return list(ACCOUNT_COLUMNS)
    unknown = sorted(set(columns) - set(ACCOUNT_COLUMNS))
    if unknown:
        raise EngineError(f"unknown account columns {unknown}; account columns: {', '.join(ACCOUNT_COLUMNS)}")
    return ["account_id", *[c for c in ACCOUNT_COLUMNS[1:] if c in set(columns)]]
