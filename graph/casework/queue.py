"""The review queue: who works which ring, its status, how long it has waited, and analysts' comments.

Analysts take a ring (they own it until they release it or it is reassigned), release
it, reassign it (a ring someone else holds is only taken away with a note saying why) and
comment on it. Each act is a row of the ``queue`` ledger and an entry of the audit log
(``audit.record``), so ``ringwatch audit verify`` covers ownership as it covers decisions.
Ownership follows the ring id through lineage, as decisions do.

A ring's queue status comes from what is recorded, never from a field someone sets:

- ``decided``: the decision in force on the ring id is confirmed fraud or false positive,
  whoever owns it (a needs-review decision leaves it open);
- ``in_review``: open and owned;
- ``new``: open and nobody owns it.

Age counts from when the ring was first flagged: the first lineage event that flagged
its id, placed at the latest record that run saw (``data_until``, else the run time), as
the weekly review places runs, so a replayed demo keeps its own calendar. An open ring's
age runs to now; a decided ring's age is its time to decision (never below zero: a
replayed week's decisions may be stamped inside the data that flagged the ring). A ring
is overdue when it is open and older than the store policy ``overdue_days``: a team rule
every analyst and the weekly review see alike, changed only through the audited policy
ledger, never by one person's environment.
"""

from __future__ import annotations

import pandas as pd

from ..detection.lineage import history as lineage_history
from ..engines import Engine, EngineError
from . import audit, policy
from .analysts import analyst_id
from .decisions import current_decisions, decisions
from .vocabulary import verdict_label

LEDGER = "queue"
ACTIONS = {"take": "take_ring", "release": "release_ring", "assign": "assign_ring", "comment": "comment_ring"}
FINAL_VERDICTS = ("confirmed_fraud", "false_positive")
STATUSES = ("new", "in_review", "decided")
STATUS_LABELS = {"new": "new", "in_review": "in review", "decided": "decided"}
QUEUE_COLUMNS = ["ring_id", "risk_score", "size", "status", "owner", "age_days", "overdue", "first_flagged",
                 "verdict", "comments", "last_comment"]
EVENT_COLUMNS = ["at", "action", "analyst", "owner", "previous", "note", "audit_seq"]
MAX_NOTE = 2000
DAY = pd.Timedelta(days=1)


def _rings(engine: Engine) -> pd.DataFrame:
    """The last run's rings with the verdict in force on each id ("" for none)."""
    try:
        rings = engine.results("rings")
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
    rings = _rings(engine)
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


def first_flagged(engine: Engine) -> pd.Series:
    """When each ring id was first flagged (naive UTC), from the lineage ledger; see the module docstring."""
    runs = lineage_history(engine)
    if runs.empty:
        return pd.Series(dtype="datetime64[ns]")
    flagged = runs[runs["flagged"] & ~runs["event"].isin(["split", "dissolved"])]
    when = pd.to_datetime(flagged["data_until"].fillna(flagged["run_at"]), utc=True).dt.tz_localize(None)
    return when.groupby(flagged["ring_id"].to_numpy()).min()


def _naive(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True, format="ISO8601").dt.tz_localize(None)


def _now(now) -> pd.Timestamp:
    ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


def queue(engine: Engine, now=None) -> pd.DataFrame:
    """Every ring in the queue (flagged now, or held back by a false positive), open ones first, then by risk
    and age (``QUEUE_COLUMNS``); ``age_days`` is days waiting (open) or days to the decision (decided)."""
    rings = _rings(engine)
    rings = rings[rings["flagged"].astype(bool) | rings["verdict"].isin(FINAL_VERDICTS)]
    if rings.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    now = _now(now)
    held = owners(engine)
    log = events(engine)
    notes = log[log["action"] == "comment"]
    latest = current_decisions(decisions(engine))
    first = first_flagged(engine)
    # A ring no lineage names (a store from before lineage was kept) counts from the last run.
    fallback = _last_run(engine, now)
    out = rings[["ring_id", "risk_score", "size", "verdict"]].reset_index(drop=True)
    out["first_flagged"] = out["ring_id"].map(first).fillna(fallback).astype("datetime64[ns]")
    decided = out["verdict"].isin(FINAL_VERDICTS)
    decided_at = _naive(out["ring_id"].map(latest["at"]) if len(latest) else pd.Series(None, index=out.index))
    end = decided_at.where(decided, now)
    out["age_days"] = ((end - out["first_flagged"]).clip(lower=pd.Timedelta(0)) / DAY).round(1)
    out["owner"] = out["ring_id"].map(held).astype(object).fillna("")
    out["status"] = ["decided" if d else "in_review" if o else "new" for d, o in zip(decided, out["owner"])]
    limit = policy.current(engine)["overdue_days"]
    out["overdue"] = ~decided & (out["age_days"] > limit) if limit is not None else False
    out["comments"] = out["ring_id"].map(notes.groupby("ring_id").size()).fillna(0).astype("int64")
    out["last_comment"] = out["ring_id"].map(notes.groupby("ring_id")["note"].last()).astype(object).fillna("")
    out["open"] = ~decided
    out = out.sort_values(["open", "risk_score", "age_days", "ring_id"], ascending=[False, False, False, True])
    return out[QUEUE_COLUMNS].reset_index(drop=True)


def _last_run(engine: Engine, now: pd.Timestamp) -> pd.Timestamp:
    try:
        runs = engine.results("runs")
    except EngineError:
        return now
    return pd.Timestamp(pd.to_datetime(runs["finished_at"]).max()) if len(runs) else now


def health(engine: Engine, since=None, until=None, now=None) -> dict:
    """Queue health: rings open, new, in review and overdue now; rings decided between ``since`` and ``until``
    (by the time of their decision) and the median days from first flagged to that decision (None without any)."""
    table = queue(engine, now)
    open_ = table[table["status"] != "decided"]
    made = decisions(engine)
    made = made[(made["target_kind"] == "ring") & made["verdict"].isin(FINAL_VERDICTS)]
    at = _naive(made["at"]).to_numpy()
    inside = pd.Series(True, index=made.index)
    if since is not None:
        inside &= at >= _now(since)
    if until is not None:
        inside &= at <= _now(until)
    made = made[inside.to_numpy()].drop_duplicates("target")
    first = first_flagged(engine)
    waited = (_naive(made["at"]).to_numpy() - made["target"].map(first).to_numpy()) / DAY
    waited = pd.Series(waited, dtype="float64").dropna().clip(lower=0)
    return {
        "open": len(open_), "new": int((open_["status"] == "new").sum()),
        "in review": int((open_["status"] == "in_review").sum()), "overdue": int(open_["overdue"].sum()),
        "decided": len(made), "median days to decision": round(float(waited.median()), 1) if len(waited) else None,
        "overdue after days": policy.current(engine)["overdue_days"],
    }


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
