"""The review queue's ledger: analysts take, release, reassign and comment on rings.

Analysts take a ring (they own it until they release it or it is reassigned), release
it, reassign it (a ring someone else holds is only taken away with a note saying why) and
comment on it. Each act is a row of the ``queue`` ledger and an entry of the audit log
(``audit.record``), so ``ringwatch audit verify`` covers ownership as it covers decisions.
Ownership follows the ring id through lineage, as decisions do.

A ring waits in the queue while it is flagged and has no final decision: ``decided``
when the decision in force on the ring id is confirmed fraud or false positive, whoever
holds it (a needs-review decision leaves it open); ``in_review`` when open and held;
``new`` when open and nobody holds it. The read model (status, age since first flagged,
overdue by store policy, queue health) is ``reports.queue_views``.
"""

from __future__ import annotations

import pandas as pd

from ..engines import Engine, EngineError
from . import audit
from .analysts import analyst_id
from .decisions import current_decisions, decisions
from .vocabulary import verdict_label

LEDGER = "queue"
ACTIONS = {"take": "take_ring", "release": "release_ring", "assign": "assign_ring", "comment": "comment_ring"}
FINAL_VERDICTS = ("confirmed_fraud", "false_positive")
STATUSES = ("new", "in_review", "decided")
STATUS_LABELS = {"new": "new", "in_review": "in review", "decided": "decided"}
EVENT_COLUMNS = ["at", "action", "analyst", "owner", "previous", "note", "audit_seq"]
MAX_NOTE = 2000


def rings_and_verdicts(engine: Engine) -> pd.DataFrame:
    """The last run's rings with the verdict in force on each id ("" for none)."""
    try:
        rings = engine.results("rings", columns=["ring_id", "risk_score", "size", "flagged"])
    except EngineError:
        return pd.DataFrame(columns=["ring_id", "risk_score", "size", "flagged", "verdict"])
    latest = current_decisions(decisions(engine))
    on_ring = latest[latest["target_kind"] == "ring"]["verdict"] if len(latest) else pd.Series(dtype=object)
    return rings.assign(verdict=rings["ring_id"].map(on_ring).astype(object).fillna(""))


def events(engine: Engine, ring_id: str | None = None) -> pd.DataFrame:
    """Queue events (takes, releases, reassignments, comments) in the order recorded, of one ring or all."""
    frame = engine.records(LEDGER)
    if frame.empty:
        return pd.DataFrame(columns=["ring_id", *EVENT_COLUMNS])
    frame = frame.reindex(columns=["ring_id", *EVENT_COLUMNS])
    return (frame[frame["ring_id"] == ring_id] if ring_id is not None else frame).reset_index(drop=True)


def owners(engine: Engine) -> dict[str, str]:
    """Who holds each ring now (rings nobody holds are left out)."""
    held: dict[str, str | None] = {}
    for row in events(engine).to_dict("records"):
        if row["action"] != "comment":
            held[row["ring_id"]] = row["owner"] if isinstance(row["owner"], str) and row["owner"] else None
    return {r: o for r, o in held.items() if o}


def _note(text) -> str:
    text = " ".join(str(text or "").split())
    if len(text) > MAX_NOTE:
        raise ValueError(f"a queue note is at most {MAX_NOTE} characters")
    return text


def _record(engine: Engine, ring_id: str, action: str, analyst: str, owner, previous, note: str, at) -> dict:
    row = {"ring_id": ring_id, "action": action, "owner": owner, "previous": previous, "note": note,
           "analyst": analyst, "at": at or audit.now_text()}
    return audit.record(engine, LEDGER, ACTIONS[action], analyst, [row], at=row["at"])[0]


def _holder(engine: Engine, ring_id: str, what: str | None = None) -> str | None:
    """Who holds a ring of the last run (None: nobody); with ``what``, the ring must also wait in the queue
    (flagged and undecided), else ValueError saying why ``what`` cannot be done."""
    rings = rings_and_verdicts(engine)
    found = rings[rings["ring_id"] == ring_id]
    if found.empty:
        raise ValueError(f"{ring_id} is not a ring id of the last detection run")
    ring = found.iloc[0]
    if what is None:
        return owners(engine).get(ring_id)
    if ring["verdict"] in FINAL_VERDICTS:
        latest = current_decisions(decisions(engine)).loc[ring_id]
        raise ValueError(f"ring {ring_id} is decided ({verdict_label(latest['verdict'])} by {latest['analyst']} "
                         f"on {str(latest['at'])[:10]}): nothing to {what}")
    if not bool(ring["flagged"]):
        raise ValueError(f"ring {ring_id} is not flagged: the queue holds flagged rings only")
    return owners(engine).get(ring_id)


def take(engine: Engine, ring_id: str, analyst: str, note: str = "", at: str | None = None) -> dict:
    """Take a ring nobody holds (audited); refuses one that somebody else holds, naming them."""
    analyst = analyst_id(analyst, "taking a ring")
    note = _note(note)
    with engine.transaction():
        holder = _holder(engine, ring_id, "take")
        if holder == analyst:
            raise ValueError(f"you hold ring {ring_id} already")
        if holder:
            raise ValueError(f"ring {ring_id} is held by {holder}: ask them to release it, or reassign it "
                             "with a note saying why")
        return _record(engine, ring_id, "take", analyst, analyst, None, note, at)


def release(engine: Engine, ring_id: str, analyst: str, note: str = "", at: str | None = None) -> dict:
    """Give back a ring you hold (audited), so it is new again unless decided."""
    analyst = analyst_id(analyst, "releasing a ring")
    note = _note(note)
    with engine.transaction():
        holder = _holder(engine, ring_id)
        if holder is None:
            raise ValueError(f"nobody holds ring {ring_id}: nothing to release")
        if holder != analyst:
            raise ValueError(f"ring {ring_id} is held by {holder}, not you: only they release it; reassigning it "
                             "needs a note saying why")
        return _record(engine, ring_id, "release", analyst, None, holder, note, at)


def assign(engine: Engine, ring_id: str, to: str, analyst: str, note: str = "", at: str | None = None) -> dict:
    """Give a ring to an analyst (audited); taking it away from someone else needs a note."""
    analyst = analyst_id(analyst, "reassigning a ring")
    to = analyst_id(to, "reassigning a ring")
    note = _note(note)
    with engine.transaction():
        holder = _holder(engine, ring_id, "reassign")
        if holder == to:
            raise ValueError(f"ring {ring_id} is held by {to} already")
        if holder and holder != analyst and not note:
            raise ValueError(f"ring {ring_id} is held by {holder}: say why it moves to {to} (a note is required)")
        return _record(engine, ring_id, "assign", analyst, to, holder, note, at)


def comment(engine: Engine, ring_id: str, analyst: str, text: str, at: str | None = None) -> dict:
    """Add a comment to a ring's case (audited); any ring of the last run, decided or not."""
    analyst = analyst_id(analyst, "a comment")
    text = _note(text)
    if not text:
        raise ValueError("a comment needs text")
    with engine.transaction():
        return _record(engine, ring_id, "comment", analyst, _holder(engine, ring_id), None, text, at)


def event_line(action: str, d: dict) -> str:
    """One line for a queue entry of the audit log."""
    ring, note = d.get("ring_id"), f": {d['note']}" if d.get("note") else ""
    if action == "take_ring":
        return f"took ring {ring}{note}"
    if action == "release_ring":
        return f"released ring {ring}{note}"
    if action == "assign_ring":
        moved = f" from {d['previous']}" if d.get("previous") else ""
        return f"assigned ring {ring} to {d.get('owner')}{moved}{note}"
    return f"commented on ring {ring}{note}"
