"""The ban state, derived once from the ledgers: batches and their status, every ban and unban, who is banned now.

A batch's bans take effect when it is approved (or when proposed, if it needed no
approval); unbans are appended, never deletions. An account's current state is its latest
ban or unban in the audit order, so an account banned, unbanned and banned again by a
later batch shows all three steps. Every view that says whether an account is banned (ban
lists, batches, decisions, the review, the dashboard) reads it from here.
"""

from __future__ import annotations

import pandas as pd

from ..engines import Engine

HISTORY_COLUMNS = ["account_id", "event", "batch_id", "analyst", "at", "note", "audit_seq", "changed"]
STATE_COLUMNS = ["account_id", "banned", "batch_id", "since"]


def batches(engine: Engine) -> pd.DataFrame:
    """Every batch with its status (``pending approval`` or ``approved``) and approver."""
    frame = engine.records("batches")
    if frame.empty:
        return pd.DataFrame(columns=["batch_id", "size", "proposer", "at", "status", "approver", "approved_at",
                                     "content_hash"])
    approvals = {a["batch_id"]: a for a in engine.records("approvals").to_dict("records")}
    needs = frame["needs_approval"].astype(bool)
    frame["approver"] = [approvals[b]["approver"] if b in approvals else None for b in frame["batch_id"]]
    frame["approved_at"] = [approvals[b]["at"] if b in approvals else (None if n else at)
                            for b, n, at in zip(frame["batch_id"], needs, frame["at"])]
    # Where the bans took effect in the audit order: the approval, or the proposal itself.
    frame["effective_seq"] = [approvals[b]["audit_seq"] if b in approvals else (None if n else seq)
                              for b, n, seq in zip(frame["batch_id"], needs, frame["audit_seq"])]
    frame["status"] = ["approved" if ok else "pending approval" for ok in frame["approved_at"].notna()]
    return frame


def batch(engine: Engine, batch_id: str) -> dict:
    """One batch by id."""
    frame = batches(engine)
    found = frame[frame["batch_id"] == batch_id]
    if found.empty:
        raise ValueError(f"no batch {batch_id!r} in this store")
    return found.iloc[0].to_dict()


def history(engine: Engine) -> pd.DataFrame:
    """Every ban and unban in the order they happened (``HISTORY_COLUMNS``).

    ``changed`` says whether the event changed the account's state: a ban of an account
    already banned (a batch proposed with already-banned accounts included) is recorded but
    bans nobody new, and review counts only the changes.
    """
    rows = []
    for b in batches(engine).to_dict("records"):
        if b["status"] != "approved":
            continue
        who = b["approver"] if isinstance(b["approver"], str) else b["proposer"]
        order = int(b["effective_seq"])
        rows += [{"account_id": a, "event": "ban", "batch_id": b["batch_id"], "analyst": who,
                  "at": b["approved_at"], "note": "", "audit_seq": order} for a in b["accounts"]]
    for u in engine.records("unbans").to_dict("records"):
        rows.append({"account_id": u["account_id"], "event": "unban", "batch_id": u["batch_id"],
                     "analyst": u["analyst"], "at": u["at"], "note": u["note"], "audit_seq": u["audit_seq"]})
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS[:-1])
    frame = frame.sort_values(["audit_seq", "account_id"], kind="stable").reset_index(drop=True)
    before = frame.groupby("account_id", sort=False)["event"].shift(1)
    frame["changed"] = (frame["event"] == "ban") != (before == "ban")
    return frame[HISTORY_COLUMNS]


def ban_state(engine: Engine) -> pd.DataFrame:
    """Per account ever banned: banned (bool), batch_id and since, from its latest ban or unban."""
    h = history(engine)
    last = h.groupby("account_id", sort=True).tail(1)
    return pd.DataFrame({"account_id": last["account_id"], "banned": last["event"] == "ban",
                         "batch_id": last["batch_id"], "since": last["at"]},
                        columns=STATE_COLUMNS).sort_values("account_id").reset_index(drop=True)


def banned_now(engine: Engine) -> pd.Series:
    """The accounts banned now: the batch that banned each, indexed by account id."""
    state = ban_state(engine)
    state = state[state["banned"].astype(bool)]
    return pd.Series(state["batch_id"].to_numpy(), index=pd.Index(state["account_id"], name="account_id"),
                     name="batch_id", dtype=object)
