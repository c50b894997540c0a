"""Ban batches: a proposed ban list with a content hash, four-eyes approval, exports and unbans.

A batch freezes a selection of the ban list (``exports.bans_table``: accounts banned now
are left out unless asked for) as its canonical CSV (``exports.csv_bytes``) and the SHA-256
of those bytes, so exporting it again later gives the same bytes whatever detection has
found since. A batch of more than the store's four-eyes size (``policy.approval_above``)
needs approval by another analyst than its proposer (identities compared in their
canonical form, ``analysts.analyst_id``); a smaller batch, or any batch with four-eyes
off, is approved when proposed. A selection identical to a batch still waiting for
approval is refused with that batch's id.

Bans take effect when a batch is approved. Unbans are appended, never deletions; the ban
state is derived in ``bans``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ringwatch.files import write_file

from ..engines import Engine
from . import audit, policy
from .analysts import analyst_id, same_analyst
from .bans import ban_state, batch, batches
from .exports import bans_table, csv_bytes, record_export



def propose(engine: Engine, analyst: str, rings=(), min_score: float | None = None, max_score: float | None = None,
            include_banned: bool = False, at: str | None = None) -> dict:
    """Freeze a ban-list selection as a batch; four-eyes by the store's policy.

    Returns the stored row plus ``already_banned``: the selected accounts left out because
    they are banned now (0 with ``include_banned``).
    """
    analyst = analyst_id(analyst, "proposing a batch")
    with engine.transaction():
        table = bans_table(engine, list(rings) or None, min_score, max_score, include_banned)
        skipped = table.attrs.get("already_banned", 0)
        if table.empty:
            raise ValueError("the selection holds no flagged accounts"
                             + (f" that are not banned already ({skipped:,} are)" if skipped else "")
                             + ": nothing to propose")
        content = csv_bytes(table)
        digest = hashlib.sha256(content).hexdigest()
        listed = batches(engine)
        same = listed[(listed["content_hash"] == digest) & (listed["status"] == "pending approval")]
        if len(same):
            raise ValueError(f"batch {same['batch_id'].iloc[0]} with the same accounts is already waiting for "
                             "approval: approve that one")
        above = policy.approval_above(engine)
        at = at or audit.now_text()
        row = {
            "batch_id": "B-" + hashlib.sha256(f"{digest}|{analyst}|{at}".encode()).hexdigest()[:10],
            "content_hash": digest, "csv": content.decode("utf-8"), "accounts": table["account_id"].tolist(),
            "size": len(table), "rings": sorted(set(rings)), "min_score": min_score, "max_score": max_score,
            "include_banned": bool(include_banned), "proposer": analyst, "at": at,
            "needs_approval": above is not None and len(table) > above,
        }
        stored = audit.record(engine, "batches", "propose_batch", analyst, [row], at=at)[0]
    return {**stored, "already_banned": skipped}


def approve(engine: Engine, batch_id: str, analyst: str, at: str | None = None) -> dict:
    """Approve a pending batch; the proposer cannot approve their own."""
    analyst = analyst_id(analyst, "approving a batch")
    with engine.transaction():
        return _approve(engine, batch_id, analyst, at)


def _approve(engine: Engine, batch_id: str, analyst: str, at: str | None) -> dict:
    b = batch(engine, batch_id)
    if b["status"] == "approved":
        raise ValueError(f"batch {batch_id} is already approved"
                         + (f" by {b['approver']}" if isinstance(b["approver"], str) else " (no approval needed)"))
    if same_analyst(analyst, b["proposer"]):
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
    """Write an approved batch's CSV, byte for byte as proposed, then record it; returns the export record."""
    analyst = analyst_id(analyst, "exporting a batch")
    content, rows = approved_csv(engine, batch_id)
    write_file(out, content)
    return record_export(engine, analyst, content, rows, str(Path(out)), batch_id=batch_id)


def unban(engine: Engine, account_ids, analyst: str, note: str = "", batch_id: str | None = None,
          at: str | None = None) -> list[dict]:
    """Lift the bans on these accounts (appended; the ban stays in history); all must be banned now."""
    analyst = analyst_id(analyst, "an unban")
    if not note and not batch_id:
        raise ValueError("say why: an unban needs --note TEXT (or --batch BATCH_ID)")
    at = at or audit.now_text()
    with engine.transaction():
        state = ban_state(engine).set_index("account_id")
        rows = []
        for account in dict.fromkeys(account_ids):
            if account not in state.index or not state.at[account, "banned"]:
                raise ValueError(f"account {account} is not banned now: nothing to unban")
            banned_by = state.at[account, "batch_id"]
            if batch_id and banned_by != batch_id:
                raise ValueError(f"account {account} is banned by batch {banned_by}, not {batch_id}")
            rows.append({"account_id": account, "batch_id": banned_by, "note": note, "analyst": analyst, "at": at})
        return audit.record(engine, "unbans", "unban", analyst, rows, at=at)
