"""Ban batches: a proposed ban list with a content hash, four-eyes approval, exports and unbans.

A batch freezes a selection of the ban list (``export.bans_table``) as its canonical CSV
(``export.csv_bytes``) and the SHA-256 of those bytes, so exporting it again later gives the
same bytes whatever detection has found since. A batch of more than ``approval_above``
accounts (default 50; four-eyes on) needs approval by another analyst than its proposer;
a smaller batch, or any batch with four-eyes off, is approved when proposed.

Bans take effect when a batch is approved. Unbans are appended, never deletions; the
current ban state of an account is its latest ban or unban in the audit order, so an
account banned, unbanned and banned again by a later batch shows all three steps.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from ..engines import Engine
from . import audit
from .exports import bans_table, csv_bytes, record_export

DEFAULT_APPROVAL_ABOVE = 50
HISTORY_COLUMNS = ["account_id", "event", "batch_id", "analyst", "at", "note", "audit_seq"]


def _need(analyst: str, what: str) -> None:
    if not analyst:
        raise ValueError(f"{what} needs an analyst: pass --analyst NAME or set RINGWATCH_ANALYST")


def propose(engine: Engine, analyst: str, rings=(), min_score: float | None = None, max_score: float | None = None,
            approval_above: int | None = DEFAULT_APPROVAL_ABOVE, at: str | None = None) -> dict:
    """Freeze a ban-list selection as a batch; ``approval_above=None`` turns four-eyes off."""
    _need(analyst, "proposing a batch")
    table = bans_table(engine, list(rings) or None, min_score, max_score)
    if table.empty:
        raise ValueError("the selection holds no flagged accounts: nothing to propose")
    content = csv_bytes(table)
    digest = hashlib.sha256(content).hexdigest()
    at = at or audit.now_text()
    row = {
        "batch_id": "B-" + hashlib.sha256(f"{digest}|{analyst}|{at}".encode()).hexdigest()[:10],
        "content_hash": digest, "csv": content.decode("utf-8"), "accounts": table["account_id"].tolist(),
        "size": len(table), "rings": sorted(set(rings)), "min_score": min_score, "max_score": max_score,
        "proposer": analyst, "at": at,
        "needs_approval": approval_above is not None and len(table) > approval_above,
    }
    return audit.record(engine, "batches", "propose_batch", analyst, [row], at=at)[0]


def batches(engine: Engine) -> pd.DataFrame:
    """Every batch with its status (``pending approval`` or ``approved``) and approver."""
    frame = engine.records("batches")
    if frame.empty:
        return pd.DataFrame(columns=["batch_id", "size", "proposer", "at", "status", "approver", "approved_at"])
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


def approve(engine: Engine, batch_id: str, analyst: str, at: str | None = None) -> dict:
    """Approve a pending batch; the proposer cannot approve their own."""
    _need(analyst, "approving a batch")
    b = batch(engine, batch_id)
    if b["status"] == "approved":
        raise ValueError(f"batch {batch_id} is already approved"
                         + (f" by {b['approver']}" if isinstance(b["approver"], str) else " (no approval needed)"))
    if analyst == b["proposer"]:
        raise ValueError(f"four-eyes: {analyst} proposed batch {batch_id} and cannot approve it; another analyst must approve it")
    row = {"batch_id": batch_id, "content_hash": b["content_hash"], "approver": analyst, "at": at or audit.now_text()}
    return audit.record(engine, "approvals", "approve_batch", analyst, [row], at=row["at"])[0]


def approved_csv(engine: Engine, batch_id: str) -> tuple[bytes, int]:
    """An approved batch's CSV bytes, exactly as proposed, and its rows; refuses a pending batch or one whose
    hash no longer fits."""
    b = batch(engine, batch_id)
    if b["status"] != "approved":
        raise ValueError(f"batch {batch_id} is waiting for approval by an analyst other than {b['proposer']}")
    content = b["csv"].encode("utf-8")
    if hashlib.sha256(content).hexdigest() != b["content_hash"]:
        raise ValueError(f"batch {batch_id} no longer matches its content hash: run `ringwatch audit verify`")
    return content, int(b["size"])


def export_batch(engine: Engine, batch_id: str, out, analyst: str) -> dict:
    """Write an approved batch's CSV, byte for byte as proposed; returns the export record."""
    _need(analyst, "exporting a batch")
    content, rows = approved_csv(engine, batch_id)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return record_export(engine, analyst, content, rows, str(path), batch_id=batch_id)


def history(engine: Engine) -> pd.DataFrame:
    """Every ban and unban in the order they happened (``HISTORY_COLUMNS``)."""
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
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return frame.sort_values(["audit_seq", "account_id"], kind="stable").reset_index(drop=True)


def ban_state(engine: Engine) -> pd.DataFrame:
    """Per account ever banned: banned (bool), batch_id and since, from its latest ban or unban."""
    h = history(engine)
    last = h.groupby("account_id", sort=True).tail(1)
    return pd.DataFrame({"account_id": last["account_id"], "banned": last["event"] == "ban",
                         "batch_id": last["batch_id"], "since": last["at"]}).sort_values("account_id").reset_index(drop=True)


def unban(engine: Engine, account_ids, analyst: str, note: str = "", batch_id: str | None = None,
          at: str | None = None) -> list[dict]:
    """Lift the bans on these accounts (appended; the ban stays in history); all must be banned now."""
    _need(analyst, "an unban")
    if not note and not batch_id:
        raise ValueError("say why: an unban needs --note TEXT (or --batch BATCH_ID)")
    state = ban_state(engine).set_index("account_id")
    rows = []
    for account in dict.fromkeys(account_ids):
        if account not in state.index or not state.at[account, "banned"]:
            raise ValueError(f"account {account} is not banned now: nothing to unban")
        banned_by = state.at[account, "batch_id"]
        if batch_id and banned_by != batch_id:
            raise ValueError(f"account {account} is banned by batch {banned_by}, not {batch_id}")
        rows.append({"account_id": account, "batch_id": banned_by, "note": note, "analyst": analyst,
                     "at": at or audit.now_text()})
    return audit.record(engine, "unbans", "unban", analyst, rows, at=rows[0]["at"] if rows else None)
