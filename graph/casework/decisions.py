"""Analysts' decisions on rings and accounts, and false-positive feedback into detection.

A decision marks a ring or an account as ``confirmed_fraud``, ``false_positive`` or
``needs_review``, with a note, the analyst and the time; it also keeps what the analyst
saw: the risk score and the members at that moment. Decisions live in the ``decisions``
ledger (append-only; the latest decision on a target is the current one).

Decisions follow a ring through lineage because ring ids do: a decision on ring X applies
to whichever ring holds id X after a later run (see ``lineage``). When rings merge, the
merged ring carries only the decisions of the id it kept; when a ring splits, the part
that kept the id carries them and the other parts start undecided (they are new rings to
review). An account's own decision overrides its ring's.

False-positive feedback: after detection, a flagged account covered by a false-positive
decision (on its ring, or on itself) is not flagged again on the same evidence. New
evidence means the ring's risk score rose by at least ``NEW_EVIDENCE_RISE`` since the
decision or the ring gained members the decision did not cover (for an account decision:
its own score rose that much, or it now sits in a different ring). Either way its reasons
say what happened.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..engines import Engine
from ..reports import overview_tables
from . import audit, bans
from .analysts import analyst_id
from .batches import unban
from .vocabulary import VERDICTS

log = logging.getLogger(__name__)

NEW_EVIDENCE_RISE = 0.1
DECISION_COLUMNS = ["seq", "target", "target_kind", "verdict", "note", "analyst", "at", "risk_score", "members",
                    "ring_id", "audit_seq"]


def decide(engine: Engine, target: str, verdict: str, analyst: str, note: str = "", at: str | None = None,
           lift_bans: bool = False) -> dict:
    """Record a decision on a ring id or an account id of the last detection run.

    Returns the stored row plus, for a false positive: ``held_back`` (the accounts it took
    out of the flagged set now), ``still_banned`` (its accounts that approved batches keep
    banned: account id -> batch id) and ``lifted`` (those whose bans it lifted, with
    ``lift_bans``, through the ordinary unban, which records each in the audit log). A false
    positive clears the flag, not a ban already in force: lifting one is an analyst's act.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}; choose one of: {', '.join(VERDICTS)}")
    analyst = analyst_id(analyst, "a decision")
    if lift_bans and verdict != "false_positive":
        raise ValueError("only a false-positive decision lifts bans")
    with engine.transaction():
        accounts, rings = engine.results("accounts"), engine.results("rings")
        ring = rings[rings["ring_id"] == target]
        if len(ring):
            members = accounts.loc[accounts["cluster_id"] == ring["cluster_id"].iloc[0], "account_id"]
            row = {"target_kind": "ring", "risk_score": float(ring["risk_score"].iloc[0]),
                   "members": sorted(members), "ring_id": target}
        else:
            account = accounts[accounts["account_id"] == target]
            if account.empty:
                raise ValueError(f"{target} is neither a ring id nor an account id of the last detection run")
            rid = account["ring_id"].iloc[0]
            row = {"target_kind": "account", "risk_score": float(account["risk_score"].iloc[0]),
                   "members": [target], "ring_id": None if pd.isna(rid) else rid}
        row = {"target": target, "verdict": verdict, "note": note, "analyst": analyst, "at": at or audit.now_text(),
               **row}
        stored = audit.record(engine, "decisions", "decision", analyst, [row], at=row["at"])[0]
        if verdict != "false_positive":
            return {**stored, "held_back": 0, "still_banned": {}, "lifted": []}
        held = hold_back_now(engine, stored, accounts, rings)
        banned = bans.banned_now(engine)
        still = banned[banned.index.isin(stored["members"])]
        lifted = []
        if lift_bans and len(still):
            why = f"false positive (decision, audit entry {stored['audit_seq']})" + (f": {note}" if note else "")
            lifted = [u["account_id"] for u in unban(engine, list(still.index), analyst, why, at=row["at"])]
            still = still.drop(lifted)
    return {**stored, "held_back": held, "still_banned": still.to_dict(), "lifted": lifted}


def hold_back_now(engine: Engine, row: dict, accounts: pd.DataFrame, rings: pd.DataFrame) -> int:
    """Apply a new false-positive decision to the stored results at once; returns the accounts unflagged.

    Its accounts leave the flagged set, and so every ban list, without waiting for the next
    detection run (which re-applies every decision from the ledger anyway), and move from
    flagged to not flagged in the Overview's counts (``overview_tables.shifted``). Members
    with a decision of their own keep it. Other verdicts change nothing until that next run.
    """
    latest = current_decisions(decisions(engine))
    own = set(latest.index[(latest["target_kind"] == "account")]) - {row["target"]}
    if row["target_kind"] == "ring":
        members = accounts["account_id"].isin(row["members"])
        covered = members & ~accounts["account_id"].isin(own)
        rings.loc[rings["ring_id"] == row["target"], "flagged"] = False
    else:
        covered = accounts["account_id"] == row["target"]
    _prefix(accounts, covered & accounts["flagged"].astype(bool), {a: f"not flagged: {_mark(row)}"
                                                                   for a in accounts.loc[covered, "account_id"]})
    leaving = accounts[covered & accounts["flagged"].astype(bool)]
    unflagged = len(leaving)
    tables = {"accounts": accounts, "rings": rings}
    if unflagged:
        moved = overview_tables.account_fields(engine, leaving, leaving["account_id"])
        tables.update(overview_tables.shifted(overview_tables.stored(engine), moved))
    accounts.loc[covered, "flagged"] = False
    engine.save_results(tables)
    log.info("false positive %s: %d accounts held back now", row["target"], unflagged)
    return unflagged


def decisions(engine: Engine) -> pd.DataFrame:
    """Every decision in the order made (``DECISION_COLUMNS``)."""
    return engine.records("decisions").reindex(columns=DECISION_COLUMNS)


def current_decisions(log_frame: pd.DataFrame) -> pd.DataFrame:
    """The latest decision per target."""
    if log_frame.empty:
        return log_frame
    return log_frame.sort_values("seq").groupby("target", sort=True).tail(1).set_index("target")


def pending_rings(engine: Engine) -> pd.DataFrame:
    """Flagged rings of the last run with no decision yet, or marked needs_review: ring_id, size, risk_score, verdict."""
    rings = engine.results("rings", columns=["ring_id", "size", "risk_score", "flagged"])
    rings = rings[rings["flagged"].astype(bool)]
    latest = current_decisions(decisions(engine))
    verdict = rings["ring_id"].map(latest["verdict"]) if len(latest) else pd.Series(None, index=rings.index)
    out = rings.assign(verdict=verdict.astype(object).fillna(""))
    out = out[out["verdict"].isin(["", "needs_review"])]
    return out[["ring_id", "size", "risk_score", "verdict"]].sort_values(
        ["risk_score", "ring_id"], ascending=[False, True]).reset_index(drop=True)


def _mark(d) -> str:
    return f"marked false positive by {d['analyst']} on {str(d['at'])[:10]}"


def apply_feedback(engine: Engine, tables: dict[str, pd.DataFrame]) -> None:
    """Unflag accounts covered by a false-positive decision unless new evidence appeared (edits ``tables`` in place)."""
    latest = current_decisions(decisions(engine))
    if latest.empty:
        return
    acc, rings = tables["accounts"], tables["rings"]
    if rings.empty:
        return
    ring_of = acc["cluster_id"].map(rings.dropna(subset=["cluster_id"]).set_index("cluster_id")["ring_id"])
    ring_risk = rings.set_index("ring_id")["risk_score"]
    own = latest[latest["target_kind"] == "account"]
    quiet, again = {}, {}
    for rid, d in latest[(latest["target_kind"] == "ring") & (latest["verdict"] == "false_positive")].iterrows():
        if rid not in ring_risk.index:
            continue  # the id is gone (merged away or dissolved): the decision stays in history only
        members = set(acc.loc[ring_of == rid, "account_id"])
        unseen = members - set(d["members"])
        rise = float(ring_risk[rid]) - float(d["risk_score"])
        covered = members - set(own.index)  # an account's own decision overrides its ring's
        if unseen or rise >= NEW_EVIDENCE_RISE:
            why = (f"{len(unseen)} members the decision did not cover" if unseen
                   else f"ring risk rose from {float(d['risk_score']):.2f} to {float(ring_risk[rid]):.2f}")
            again.update({a: f"flagged again after being {_mark(d)}: new evidence ({why})" for a in covered})
        else:
            quiet.update({a: f"not flagged: {_mark(d)}" for a in covered})
            rings.loc[rings["ring_id"] == rid, "flagged"] = False
    risk = acc.set_index("account_id")["risk_score"]
    ring_now = pd.Series(ring_of.to_numpy(), index=acc["account_id"])
    for account, d in own[own["verdict"] == "false_positive"].iterrows():
        if account not in risk.index:
            continue
        rise = float(risk[account]) - float(d["risk_score"])
        moved = pd.notna(ring_now[account]) and ring_now[account] != d["ring_id"]
        if rise >= NEW_EVIDENCE_RISE or moved:
            why = "it is in a different ring" if moved else f"risk rose from {float(d['risk_score']):.2f}"
            again[account] = f"flagged again after being {_mark(d)}: new evidence ({why})"
        else:
            quiet[account] = f"not flagged: {_mark(d)}"
    hit = acc["account_id"].isin(quiet)
    _prefix(acc, hit & acc["flagged"], quiet)
    acc.loc[hit, "flagged"] = False
    renewed = acc["account_id"].isin(again) & acc["flagged"]
    _prefix(acc, renewed, again)
    log.info("false-positive feedback: %d accounts held back, %d flagged again on new evidence", hit.sum(), renewed.sum())


def _prefix(acc: pd.DataFrame, rows: pd.Series, text: dict) -> None:
    """Put the feedback note in front of these accounts' reasons."""
    picked = acc.loc[rows]
    acc.loc[rows, "reasons"] = [f"{text[a]} | {r}" for a, r in zip(picked["account_id"], picked["reasons"])]
