"""The audit log as analysts search it: every entry with the rings and accounts it touched, and filters over them.

An entry touches what its details name: a decision its target, its ring and the members it
covered; a batch proposal its rings and accounts; an approval or a batch export the batch's
rings and accounts (looked up from the proposal); an unban its account (not the batch's
other rings); an ad-hoc export the
rings of its selection. So filtering by an account finds the decisions that covered it, the
batch that banned it, the approval that put the ban in force and the unban that lifted it.
"""

from __future__ import annotations

import pandas as pd

from ..engines import Engine
from .case_views import AUDIT_VIEW_COLUMNS, audit_entries

VIEW_COLUMNS = [*AUDIT_VIEW_COLUMNS[:-1], "rings", AUDIT_VIEW_COLUMNS[-1]]


def _list(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [] if value is None or (isinstance(value, float) and pd.isna(value)) or value == "" else [str(value)]


def _touched(details: list[dict]) -> tuple[list[list[str]], list[frozenset[str]]]:
    """Per entry (oldest first): the ring ids and the account ids it touched."""
    batches: dict[str, tuple[list[str], list[str]]] = {}
    rings, accounts = [], []
    for d in details:
        batch = str(d.get("batch_id") or "")
        if "accounts" in d and batch:
            batches[batch] = (_list(d.get("rings")), _list(d.get("accounts")))
        held_rings, held_accounts = batches.get(batch, ([], []))
        selection = d.get("selection") if isinstance(d.get("selection"), dict) else {}
        ring_ids = _list(d.get("ring_id")) + _list(d.get("rings")) + _list(selection.get("rings")) \
            + _list(selection.get("ring"))
        if d.get("target_kind") == "ring":
            ring_ids += _list(d.get("target"))
        account_ids = _list(d.get("members")) + _list(d.get("accounts")) + _list(d.get("account_id"))
        if d.get("target_kind") == "account":
            account_ids += _list(d.get("target"))
        if batch and "accounts" not in d and "account_id" not in d:  # an approval or a batch export: the batch's
            ring_ids += held_rings
            account_ids += held_accounts
        rings.append(sorted(set(ring_ids)))
        accounts.append(frozenset(account_ids))
    return rings, accounts


def audit_view(engine: Engine) -> pd.DataFrame:
    """The audit log, newest first: ``VIEW_COLUMNS`` plus ``accounts`` (the account ids each entry touched)."""
    entries = audit_entries(engine)
    if entries.empty:
        return pd.DataFrame(columns=[*VIEW_COLUMNS, "accounts"])
    log = engine.records("audit")
    rings, accounts = _touched([d if isinstance(d, dict) else {} for d in log["details"]])
    touched = pd.DataFrame({"seq": log["seq"].to_numpy(), "rings": [", ".join(r) for r in rings],
                            "accounts": accounts})
    return entries.merge(touched, on="seq", how="left")[[*VIEW_COLUMNS, "accounts"]]


def audit_selection(analysts=(), actions=(), ring: str = "", account: str = "", start=None, end=None) -> dict:
    """A filter of the audit log as the export of its view records it."""
    return {"analysts": sorted(analysts), "actions": sorted(actions), "ring": (ring or "").strip() or None,
            "account": (account or "").strip() or None,
            "start": None if start is None else str(start), "end": None if end is None else str(end)}


def filter_audit(view: pd.DataFrame, analysts=(), actions=(), ring: str = "", account: str = "", start=None,
                 end=None) -> pd.DataFrame:
    """The entries of ``audit_view`` that match every filter given (``VIEW_COLUMNS``).

    ``analysts`` and ``actions``: any of these; ``ring`` and ``account``: entries that touched
    that id (exact, surrounding spaces ignored); ``start`` and ``end``: dates, both days
    included (UTC).
    """
    keep = pd.Series(True, index=view.index)
    if analysts:
        keep &= view["analyst"].isin(list(analysts))
    if actions:
        keep &= view["action"].isin(list(actions))
    ring, account = (ring or "").strip(), (account or "").strip()
    if ring:
        keep &= view["rings"].fillna("").str.split(", ").map(lambda ids: ring in ids)
    if account:
        keep &= view["accounts"].map(lambda ids: isinstance(ids, frozenset) and account in ids)
    if start is not None or end is not None:
        at = pd.to_datetime(view["at"], utc=True, format="ISO8601").dt.tz_localize(None)
        if start is not None:
            keep &= at >= pd.Timestamp(start).normalize()
        if end is not None:
            keep &= at < pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    return view.loc[keep, VIEW_COLUMNS].reset_index(drop=True)


def filtered_audit(engine: Engine, **filters) -> pd.DataFrame:
    """``filter_audit`` of the store's audit log: what the dashboard shows and exports for these filters."""
    return filter_audit(audit_view(engine), **filters)
