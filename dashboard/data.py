"""Cached data access for the dashboard: the only module that opens the store.

Every function opens the engine for one call and closes it again, so the command line can
use the same store file between page loads. Results are cached per store path and file
modification time (a new `ringwatch detect` run shows up on the next page load); every
cache is bounded by ``ttl`` and ``max_entries``. `st.cache_data` is shared by all sessions,
which is what we want for read-only results.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from ringwatch.graph.casework import policy, queue
from ringwatch.graph.engines import open_engine, require_store, store_version
from ringwatch.graph.reports import (
    account_views,
    case_views,
    neighbourhood,
    network,
    queue_views,
    review,
    views,
)
from ringwatch.graph.reports import audit_view as audit_view_module

from ringwatch.settings import SETTINGS

TTL = 600
MANY = 64
FEW = 8


def store_key() -> tuple[str, str, float]:
    """Cache key for the store: engine, location and when it last changed (the ``engine`` and ``db`` settings).

    A file-backed store must exist (a mistyped path would otherwise show an empty store); a
    small write may still sit in its write-ahead log, so any of its files changing is a
    change. A server engine has no store files: its results refresh when the ttl runs out.
    """
    name, location = SETTINGS["engine"].value(), SETTINGS["db"].value()
    require_store(name, location)
    return name, location, store_version(name, location)


def _call(key, func, *args, **kwargs):
    with open_engine(key[0], key[1]) as engine:
        return func(engine, *args, **kwargs)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def headline(key) -> dict:
    """Headline figures for the overview."""
    return _call(key, views.headline)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def linked_account_scores(key) -> pd.DataFrame:
    """Risk scores of accounts in linked groups."""
    return _call(key, views.linked_account_scores)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def ring_list(key, include_benign: bool) -> pd.DataFrame:
    """Rings (and optionally benign linked groups)."""
    return _call(key, views.ring_list, include_benign)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def signups_over_time(key) -> pd.DataFrame:
    """Signups per day, flagged or not."""
    return _call(key, views.signups_over_time)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def suppressed_hubs(key) -> pd.DataFrame:
    """Suppressed hub identifier values."""
    return _call(key, views.suppressed_hubs)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def ring_detail(key, ring_id: str) -> dict:
    """Summary, explanation, score breakdown and evidence of one ring."""
    return _call(key, views.ring_detail, ring_id)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def ring_members(key, ring_id: str) -> pd.DataFrame:
    """Members of one ring."""
    return _call(key, views.ring_members, ring_id)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def activity(key, account_ids: tuple[str, ...], bucket_minutes: int) -> pd.DataFrame:
    """Requests per account and bucket."""
    return _call(key, views.activity, list(account_ids), bucket_minutes)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def search_accounts(key, query: str, field: str) -> tuple[pd.DataFrame, bool]:
    """Accounts matching a search."""
    return _call(key, views.search_accounts, query, field)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def account_profile(key, account_id: str) -> dict:
    """One account's details."""
    return _call(key, views.account_profile, account_id)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def ban_preview(key, rings: tuple[str, ...], min_score: float | None) -> dict:
    """Blast radius of a ban selection."""
    return _call(key, views.ban_preview, list(rings) or None, min_score)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def weekly_review(key, since: str | None, until: str | None = None):
    """The weekly review (``graph.review.build_review``) for the window from ``since`` through ``until`` (None: the
    last 7 days of data)."""
    return _call(key, review.build_review, since, until)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def decision_history(key, targets: tuple[str, ...]) -> pd.DataFrame:
    """Decisions on these ring or account ids, newest first."""
    return _call(key, case_views.decision_history, list(targets))


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def batch_list(key) -> pd.DataFrame:
    """Every ban batch, newest first."""
    return _call(key, case_views.batch_list)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def ban_history(key, account_ids: tuple[str, ...] | None) -> pd.DataFrame:
    """Bans and unbans, newest first (of these accounts, or all)."""
    return _call(key, case_views.ban_history, None if account_ids is None else list(account_ids))


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def banned_now(key) -> pd.DataFrame:
    """Accounts banned now."""
    return _call(key, case_views.banned_now)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def bans_in_force(key, target: str) -> pd.DataFrame:
    """The accounts of a ring, or the account, that approved batches keep banned now."""
    return _call(key, case_views.bans_in_force, target)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def batch_rows(key, batch_id: str) -> pd.DataFrame:
    """The ban list frozen in a batch."""
    return _call(key, case_views.batch_rows, batch_id)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def store_policy(key) -> dict:
    """The store's policies in force (the four-eyes size among them)."""
    return _call(key, policy.current)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def casework_counts(key) -> dict:
    """What waits for analysts (decisions, approvals) and bans in force."""
    return _call(key, case_views.casework_counts)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def ring_history(key, ring_id: str) -> pd.DataFrame:
    """Lineage events naming a ring id, oldest first."""
    return _call(key, case_views.ring_history, ring_id)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def audit_log(key) -> tuple[pd.DataFrame, dict]:
    """The audit log (newest first) and its verification."""
    with open_engine(key[0], key[1]) as engine:
        return case_views.audit_entries(engine), case_views.audit_status(engine)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def audit_view(key) -> pd.DataFrame:
    """The audit log (newest first) with the rings and accounts each entry touched, for filtering."""
    return _call(key, audit_view_module.audit_view)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def earlier_rings(key, ring_id: str) -> pd.DataFrame:
    """Rings this one came from through splits and merges, with their decisions."""
    return _call(key, case_views.earlier_rings, ring_id)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def ring_graph(key, ring_id: str, show_discounted: bool) -> network.NetworkView:
    """One ring's network, laid out (seeded): the layout is computed once per ring and toggle."""
    return _call(key, network.ring_graph, ring_id, show_discounted)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def neighbourhood_graph(key, account_id: str, hops: int, expand: tuple) -> network.NetworkView:
    """An account's neighbourhood through evidence-carrying values, with the nodes the analyst expanded."""
    return _call(key, neighbourhood.neighbourhood_graph, account_id, hops, expand)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def member_table(key, ring_id: str) -> pd.DataFrame:
    """A ring's members led by each account's own evidence and score (``account_views.member_table``)."""
    return _call(key, account_views.member_table, ring_id)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def ban_table(key, rings: tuple[str, ...], min_score: float | None) -> pd.DataFrame:
    """Ban-list rows for a selection led by each account's own evidence and score."""
    with open_engine(key[0], key[1]) as engine:
        return account_views.ban_table(engine, views.ban_list(engine, list(rings) or None, min_score))


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def account_timeline(key, account_id: str, bucket_minutes: int) -> dict:
    """One account's requests, tokens, models, templates and request IPs per bucket."""
    return _call(key, account_views.account_timeline, account_id, bucket_minutes)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def member_comparison(key, account_ids: tuple[str, ...], bucket_minutes: int) -> pd.DataFrame:
    """Requests and output tokens per account and bucket, for these accounts."""
    return _call(key, account_views.member_comparison, list(account_ids), bucket_minutes)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def review_queue(key) -> tuple[pd.DataFrame, dict]:
    """The review queue and its health now, over every decision on record (``queue_views``)."""
    with open_engine(key[0], key[1]) as engine:
        return queue_views.queue(engine), queue_views.health(engine)


@st.cache_data(ttl=TTL, max_entries=MANY, show_spinner=False)
def queue_events(key, ring_id: str) -> pd.DataFrame:
    """A ring's takes, releases, reassignments and comments, newest first."""
    return _call(key, queue.events, ring_id).iloc[::-1].reset_index(drop=True)
