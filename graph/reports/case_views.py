"""Read-side views of the analysts' casework for the dashboard: decisions, ban batches, ban state, the audit log.

Like ``views``, DataFrames in, DataFrames out, composed from the ledgers
(``decisions``, ``batches``) and the stored results; nothing here writes.
"""

from __future__ import annotations

import io

import pandas as pd

from ..casework import audit, bans, decisions, queue
from ..casework.vocabulary import decision_line, verdict_label
from ..detection import lineage
from ..engines import Engine

DECISION_VIEW_COLUMNS = ["at", "target", "target_kind", "verdict", "analyst", "note", "risk_score", "audit_seq"]
EARLIER_COLUMNS = ["ring_id", "how", "decision"]
AUDIT_VIEW_COLUMNS = ["seq", "at", "analyst", "action", "what", "hash"]
RING_HISTORY_COLUMNS = ["run_at", "data_until", "event", "ring_id", "related_ids", "size_before", "size_after",
                        "joined", "left", "flagged"]
BATCH_VIEW_COLUMNS = ["batch_id", "size", "status", "proposer", "at", "approver", "approved_at", "content_hash",
                      "rings", "min_score", "max_score"]


def ring_decisions(engine: Engine, rings: pd.DataFrame) -> pd.DataFrame:
    """``rings`` with three more columns: ``verdict`` (the current decision's code on the ring id, or ""),
    ``decision`` (that decision as one line, or "") and ``status`` (a code of ``vocabulary.RING_STATUSES``:
    flagged, held_back by a false-positive decision, or benign)."""
    latest = decisions.current_decisions(decisions.decisions(engine))
    on_ring = latest[latest["target_kind"] == "ring"] if len(latest) else latest
    lines = {t: decision_line(r) for t, r in on_ring.iterrows()}
    verdict = {t: r["verdict"] for t, r in on_ring.iterrows()}
    out = rings.copy()
    out["verdict"] = [verdict.get(r, "") for r in out["ring_id"]]
    out["decision"] = [lines.get(r, "") for r in out["ring_id"]]
    flagged = out["flagged"].astype(bool)
    held = ~flagged & (out["verdict"] == "false_positive")
    out["status"] = ["flagged" if f else "held_back" if h else "benign" for f, h in zip(flagged, held)]
    return out


def decision_history(engine: Engine, targets) -> pd.DataFrame:
    """Every decision on these ring or account ids, newest first (``DECISION_VIEW_COLUMNS``)."""
    log = decisions.decisions(engine)
    log = log[log["target"].isin(list(targets))]
    return log.sort_values("seq", ascending=False).reindex(columns=DECISION_VIEW_COLUMNS).reset_index(drop=True)


def batch_list(engine: Engine) -> pd.DataFrame:
    """Every ban batch, newest first, without its frozen CSV (``BATCH_VIEW_COLUMNS``)."""
    frame = bans.batches(engine)
    if frame.empty:
        return pd.DataFrame(columns=BATCH_VIEW_COLUMNS)
    frame = frame.sort_values("audit_seq", ascending=False)
    frame["rings"] = [", ".join(r) if isinstance(r, list) else "" for r in frame["rings"]]
    return frame.reindex(columns=BATCH_VIEW_COLUMNS).reset_index(drop=True)


def ban_history(engine: Engine, account_ids=None) -> pd.DataFrame:
    """Bans and unbans, newest first, optionally only of these accounts (``bans.HISTORY_COLUMNS``)."""
    h = bans.history(engine)
    if account_ids is not None:
        h = h[h["account_id"].isin(list(account_ids))]
    return h.iloc[::-1].reset_index(drop=True)


def banned_now(engine: Engine) -> pd.DataFrame:
    """Accounts banned now: account_id, batch_id, since."""
    state = bans.ban_state(engine)
    return state[state["banned"]].drop(columns="banned").reset_index(drop=True)


def bans_in_force(engine: Engine, target: str) -> pd.DataFrame:
    """The accounts of a ring (its members in the last run) or the account itself that are banned now: account_id, batch_id."""
    ring = engine.results("rings", pd.DataFrame({"ring_id": [str(target)]}))
    if len(ring):
        accounts = engine.results("accounts", pd.DataFrame({"cluster_id": [str(ring["cluster_id"].iloc[0])]}))
        members = set(accounts["account_id"])
    else:
        members = {target}
    banned = bans.banned_now(engine)
    banned = banned[banned.index.isin(members)]
    return pd.DataFrame({"account_id": banned.index.to_numpy(), "batch_id": banned.to_numpy()})


def batch_rows(engine: Engine, batch_id: str) -> pd.DataFrame:
    """The ban list frozen in a batch, as proposed (every value as text)."""
    return pd.read_csv(io.StringIO(bans.batch(engine, batch_id)["csv"]), dtype=str, keep_default_na=False)


# How every page names the linked groups of the last detection run, by status (one wording everywhere).
RING_COUNT_LABELS = {"flagged": "rings flagged", "held_back": "rings held back as false positives",
                     "benign": "benign linked groups"}


def count_phrase(count: int, label: str) -> str:
    """A ring count in words: "41 rings flagged", "1 ring held back as a false positive"."""
    if count == 1:
        label = label.replace("rings", "ring", 1).replace("groups", "group", 1).replace("false positives",
                                                                                        "a false positive")
    return f"{count:,} {label}"


def ring_counts(engine: Engine, rings: pd.DataFrame | None = None) -> dict:
    """The last run's linked groups by status, labelled as every page shows them: rings flagged, rings held back
    as false positives (a ring a false-positive decision unflagged), benign linked groups. ``rings``: the stored
    rings, when the caller has read them already."""
    rings = ring_decisions(engine, engine.results("rings", columns=["ring_id", "flagged"]) if rings is None else rings)
    return {label: int((rings["status"] == status).sum()) for status, label in RING_COUNT_LABELS.items()}


def casework_counts(engine: Engine) -> dict:
    """What waits for analysts: rings to decide, rings held back, batches to approve, accounts banned now."""
    listed = bans.batches(engine)
    return {
        "rings awaiting a decision": len(decisions.pending_rings(engine)),
        RING_COUNT_LABELS["held_back"]: ring_counts(engine)[RING_COUNT_LABELS["held_back"]],
        "batches awaiting approval": int((listed["status"] == "pending approval").sum()) if len(listed) else 0,
        "accounts banned now": len(banned_now(engine)),
    }


def ring_history(engine: Engine, ring_id: str) -> pd.DataFrame:
    """Every lineage event naming this ring id, oldest first: the runs it kept its id through, and where it came from.

    Columns: run_at, data_until, event, ring_id, related_ids, size_before, size_after, joined, left, flagged.
    """
    runs = lineage.history(engine, mentioning=ring_id)
    if runs.empty:
        return runs.reindex(columns=RING_HISTORY_COLUMNS)
    named = (runs["ring_id"] == ring_id) | runs["related_ids"].str.split(",").map(lambda ids: ring_id in ids)
    return runs.loc[named, RING_HISTORY_COLUMNS].reset_index(drop=True)


def _summary(action: str, d: dict) -> str:
    """One readable line for an audit entry's details."""
    digest = str(d.get("content_hash") or "")[:12]
    if action == "decision":
        return f"{verdict_label(d.get('verdict'))} on {d.get('target_kind')} {d.get('target')}" \
            + (f": {d['note']}" if d.get("note") else "")
    if action == "propose_batch":
        return f"proposed {d.get('batch_id')}: {d.get('size')} accounts, sha256 {digest}…"
    if action == "approve_batch":
        return f"approved {d.get('batch_id')} (sha256 {digest}…)"
    if action.startswith("export_"):
        what = d.get("batch_id") or d.get("what") or action.removeprefix("export_")
        return f"exported {what}: {d.get('rows')} rows to {d.get('path')}, sha256 {digest}…"
    if action == "unban":
        return f"unbanned {d.get('account_id')} (batch {d.get('batch_id')})" + (f": {d['note']}" if d.get("note") else "")
    if action in queue.ACTIONS.values():
        return queue.event_line(action, d)
    return action


def audit_entries(engine: Engine) -> pd.DataFrame:
    """The audit log, newest first: seq, at, analyst, action, what (one line), hash."""
    log = engine.records("audit")
    if log.empty:
        return pd.DataFrame(columns=AUDIT_VIEW_COLUMNS)
    out = pd.DataFrame({
        "seq": log["seq"], "at": log["at"], "analyst": log["analyst"], "action": log["action"],
        "what": [_summary(a, d if isinstance(d, dict) else {}) for a, d in zip(log["action"], log["details"])],
        "hash": log["hash"],
    })
    return out.iloc[::-1].reset_index(drop=True)


def audit_status(engine: Engine) -> dict:
    """The audit log's verification: ok, entries, first_bad, message."""
    found = audit.verify(engine)
    return {"ok": found.ok, "entries": found.entries, "first_bad": found.first_bad, "message": found.message()}


def _sources(engine: Engine, ring_id: str) -> dict[str, str]:
    """The rings this one drew members from in one step (earlier ring id -> how), from the lineage events naming it."""
    runs = lineage.history(engine, mentioning=ring_id)
    sources: dict[str, str] = {}
    for event, rid, related in zip(runs["event"], runs["ring_id"], runs["related_ids"]):
        parts = [r for r in related.split(",") if r]
        if event in ("new", "merged") and rid == ring_id:
            for r in parts:
                if r != rid:  # a split names the same pair more precisely: it wins
                    sources.setdefault(r, "merged into it" if event == "merged" else "members came from it")
        elif event == "split" and ring_id in parts and rid != ring_id:
            sources[rid] = "split from it"
    return sources


def earlier_rings(engine: Engine, ring_id: str) -> pd.DataFrame:
    """The rings this one came from through splits and merges (any number of runs back), with their decisions.

    A ring that kept no earlier id starts undecided; this is where an analyst sees what was
    decided on the rings its members were in before. Columns: ring_id, how, decision.
    """
    found, frontier = {}, [ring_id]
    while frontier:
        current = frontier.pop()
        for earlier, how in sorted(_sources(engine, current).items()):
            if earlier != ring_id and earlier not in found:
                found[earlier] = how
                frontier.append(earlier)
    latest = decisions.current_decisions(decisions.decisions(engine))
    labels = {t: decision_line(r) for t, r in latest.iterrows()} if len(latest) else {}
    rows = [{"ring_id": r, "how": how, "decision": labels.get(r, "")} for r, how in sorted(found.items())]
    return pd.DataFrame(rows, columns=EARLIER_COLUMNS)
