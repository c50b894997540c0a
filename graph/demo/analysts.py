"""Demo analysts for `ringwatch demo --weeks N`: a small team working each week's rings.

With them the replayed weeks show the whole review cycle: decisions, a ban batch per
week under four-eyes approval, and a ban reversed on appeal. Their names start with
``demo-`` and every note says the verdict was read off the scenario's ground truth; only
the demo runs this.

After each week's detection run:

- ``demo-ann`` takes and decides the ``REVIEW_PER_WEEK`` riskiest flagged rings still
  pending that nobody else holds: confirmed fraud when most of their members are labelled
  fraud, false positive otherwise;
- ``demo-bob`` takes the next pending ring when he holds none and leaves it in review with
  a comment, so the review queue shows a ring in review (and ageing);
- she proposes a ban batch of the rings she confirmed that week; a batch above the
  four-eyes size is approved by ``demo-bob``;
- from the second week on, ``demo-bob`` lifts one ban of the first batch on appeal.

Every action is stamped an hour before the end of its week, so the review files it
under the week whose data the analysts were looking at.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..casework import bans, batches, decisions, queue
from ..casework.exports import bans_table
from ..engines import Engine

log = logging.getLogger(__name__)

ANALYST, APPROVER = "demo-ann", "demo-bob"
REVIEW_PER_WEEK = 5
FRAUD_MAJORITY = 0.5


def _stamp(week_end: pd.Timestamp) -> str:
    return (pd.Timestamp(week_end) - pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def work_the_week(engine: Engine, week: int, week_end: pd.Timestamp) -> dict:
    """Decide, propose, approve and (from week 2) reverse one ban, as described above; returns what was done."""
    at = _stamp(week_end)
    held = queue.owners(engine)
    pending = decisions.pending_rings(engine)
    pending = pending[pending["ring_id"].map(lambda r: held.get(r, ANALYST) == ANALYST)].head(REVIEW_PER_WEEK)
    accounts = engine.results("accounts")[["account_id", "ring_id"]]
    truth = accounts.merge(engine.labels()[["account_id", "label"]], on="account_id", how="left")
    fraud_share = truth.assign(fraud=truth["label"] == "fraud").groupby("ring_id")["fraud"].mean()
    confirmed = []
    for ring in pending["ring_id"]:
        share = float(fraud_share.get(ring, 0.0))
        verdict = "confirmed_fraud" if share > FRAUD_MAJORITY else "false_positive"
        if held.get(ring) != ANALYST:
            queue.take(engine, ring, ANALYST, at=at)
        decisions.decide(engine, ring, verdict, ANALYST,
                         f"demo: {share:.0%} of its members are fraud in the scenario's ground truth", at=at)
        if verdict == "confirmed_fraud":
            confirmed.append(ring)
    done = {"decided": len(pending), "confirmed": len(confirmed), "batch": None, "banned": 0, "unbanned": 0}
    if confirmed and len(bans_table(engine, confirmed)):  # rings banned in an earlier week have nobody new
        proposed = batches.propose(engine, ANALYST, confirmed, at=at)
        if proposed["needs_approval"]:
            batches.approve(engine, proposed["batch_id"], APPROVER, at=at)
        done.update(batch=proposed["batch_id"], banned=int(proposed["size"]))
    if week >= 2:
        done["unbanned"] = _reverse_one(engine, at)
    _hold_one(engine, at)
    log.info("demo analysts, week %d: %s", week, done)
    return done


def _hold_one(engine: Engine, at: str) -> None:
    """demo-bob takes the riskiest pending ring nobody holds, unless he holds an open one already."""
    held = queue.owners(engine)
    pending = decisions.pending_rings(engine)["ring_id"]
    if any(held.get(r) == APPROVER for r in pending):
        return
    free = [r for r in pending if r not in held]
    if free:
        queue.take(engine, free[0], APPROVER, at=at)
        queue.comment(engine, free[0], APPROVER, "demo: waiting for the card issuer's reply", at=at)


def _reverse_one(engine: Engine, at: str) -> int:
    """Lift one ban of the first batch (the account with the lowest id still banned by it)."""
    listed = bans.batches(engine)
    if listed.empty:
        return 0
    first = listed.sort_values("audit_seq")["batch_id"].iloc[0]
    state = bans.ban_state(engine)
    banned = state[state["banned"] & (state["batch_id"] == first)]["account_id"]
    if banned.empty:
        return 0
    batches.unban(engine, [banned.min()], APPROVER, "demo: appeal upheld after a manual check", at=at)
    return 1
