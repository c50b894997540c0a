"""Cached data access for the dashboard: the only module that opens the store.

Every function opens the engine for one call and closes it again, so the command line can
use the same store file between page loads. `st.cache_data` is shared by all sessions, and
every cache is bounded by ``ttl`` and ``max_entries``.

Each cache is keyed on the part of the store it reads (``StoreKey.part``): the detection
results (with the records they come from), the casework (the ledgers), or both. An
analyst's decision, queue take or export renews only what reads casework; a ring's
members, network and timeline, the Overview's charts and every other view of the results
stay cached until results change. The two versions are read from the store
(``reports.versions``) only when one of its files changed; a store on a server has no
files to watch, so it is asked again every ``RECHECK`` seconds.
"""

from __future__ import annotations

import functools
import time
from typing import NamedTuple

import pandas as pd
import streamlit as st
from ringwatch.dashboard import charts
from ringwatch.graph.casework import policy, queue
from ringwatch.graph.engines import open_engine, require_store, store_version
from ringwatch.graph.reports import (
    account_views,
    case_views,
    neighbourhood,
    network,
    queue_views,
    review,
    versions,
    views,
)
from ringwatch.graph.reports import audit_view as audit_view_module

from ringwatch.settings import SETTINGS

TTL = 600
MANY = 64
FEW = 8
RECHECK = 10


class StoreKey(NamedTuple):
    """Which store (engine, location), and which of its results and casework, a page reads."""

    engine: str
    location: str
    results: tuple
    casework: tuple

    def part(self, on: str) -> tuple:
        """The key of a cache that reads ``results``, ``casework`` or ``both``."""
        versions_read = {"results": (self.results,), "casework": (self.casework,),
                         "both": (self.results, self.casework)}[on]
        return (self.engine, self.location, *versions_read)


@st.cache_data(ttl=TTL, max_entries=FEW, show_spinner=False)
def _versions(name: str, location: str, changed: float, tick: int) -> tuple[tuple, tuple]:
    with open_engine(name, location) as engine:
        return versions.results_version(engine), versions.casework_version(engine)


def store_key() -> StoreKey:
    """The store (the ``engine`` and ``db`` settings) and the versions of its results and casework.

    A file-backed store must exist (a mistyped path would otherwise show an empty store); a
    small write may still sit in its write-ahead log, so any of its files changing is a
    change, and only then is the store opened to read the versions.
    """
    name, location = SETTINGS["engine"].value(), SETTINGS["db"].value()
    require_store(name, location)
    changed = store_version(name, location)
    tick = 0 if changed else int(time.time() // RECHECK)
    return StoreKey(name, location, *_versions(name, location, changed, tick))


def forget_versions() -> None:
    """Read the versions from the store again on the next run (after this process wrote to it)."""
    _versions.clear()


def _cached(on: str, entries: int):
    """``st.cache_data`` keyed on the part of the store key that ``on`` names (``StoreKey.part``)."""
    def wrap(func):
        inner = st.cache_data(ttl=TTL, max_entries=entries, show_spinner=False)(func)

        @functools.wraps(func)
        def call(key: StoreKey, *args, **kwargs):
            return inner(key.part(on), *args, **kwargs)

        return call
    return wrap


def _call(key, func, *args, **kwargs):
    with open_engine(key[0], key[1]) as engine:
        return func(engine, *args, **kwargs)


@_cached("both", FEW)
def headline(key) -> dict:
    """Headline figures for the overview."""
    return _call(key, views.headline)


@_cached("results", FEW)
def risk_distribution(key) -> pd.DataFrame:
    """Accounts in linked groups per risk-score bin and status."""
    return _call(key, views.risk_distribution)


@_cached("both", FEW)
def ring_list(key, include_benign: bool) -> pd.DataFrame:
    """Rings (and optionally benign linked groups)."""
    return _call(key, views.ring_list, include_benign)


@_cached("both", FEW)
def ring_points(key) -> pd.DataFrame:
    """The Overview scatter's points (``charts.scatter_points``): at scale, a fraction of the groups to keep and send."""
    return charts.scatter_points(_call(key, views.ring_list, True))


@_cached("results", FEW)
def signups_over_time(key) -> pd.DataFrame:
    """Signups per day, flagged or not."""
    return _call(key, views.signups_over_time)


@_cached("results", FEW)
def suppressed_hubs(key) -> pd.DataFrame:
    """Suppressed hub identifier values."""
    return _call(key, views.suppressed_hubs)


@_cached("results", MANY)
def ring_detail(key, ring_id: str) -> dict:
    """Summary, explanation, score breakdown and evidence of one ring."""
    return _call(key, views.ring_detail, ring_id)


@_cached("results", MANY)
def ring_members(key, ring_id: str) -> pd.DataFrame:
    """Members of one ring."""
    return _call(key, views.ring_members, ring_id)


@_cached("results", MANY)
def activity(key, account_ids: tuple[str, ...], bucket_minutes: int) -> pd.DataFrame:
    """Requests per account and bucket."""
    return _call(key, views.activity, list(account_ids), bucket_minutes)


@_cached("results", MANY)
def search_accounts(key, query: str, field: str) -> tuple[pd.DataFrame, bool]:
    """Accounts matching a search."""
    return _call(key, views.search_accounts, query, field)


@_cached("results", MANY)
def account_profile(key, account_id: str) -> dict:
    """One account's details."""
    return _call(key, views.account_profile, account_id)


@_cached("both", MANY)
def ban_preview(key, rings: tuple[str, ...], min_score: float | None) -> dict:
    """Blast radius of a ban selection."""
    return _call(key, views.ban_preview, list(rings) or None, min_score)


@_cached("both", FEW)
def weekly_review(key, since: str | None, until: str | None = None):
    """The weekly review (``graph.review.build_review``) for the window from ``since`` through ``until`` (None: the
    last 7 days of data)."""
    return _call(key, review.build_review, since, until)


@_cached("casework", MANY)
def decision_history(key, targets: tuple[str, ...]) -> pd.DataFrame:
    """Decisions on these ring or account ids, newest first."""
    return _call(key, case_views.decision_history, list(targets))


@_cached("casework", FEW)
def batch_list(key) -> pd.DataFrame:
    """Every ban batch, newest first."""
    return _call(key, case_views.batch_list)


@_cached("casework", MANY)
def ban_history(key, account_ids: tuple[str, ...] | None) -> pd.DataFrame:
    """Bans and unbans, newest first (of these accounts, or all)."""
    return _call(key, case_views.ban_history, None if account_ids is None else list(account_ids))


@_cached("casework", FEW)
def banned_now(key) -> pd.DataFrame:
    """Accounts banned now."""
    return _call(key, case_views.banned_now)


@_cached("both", MANY)
def bans_in_force(key, target: str) -> pd.DataFrame:
    """The accounts of a ring, or the account, that approved batches keep banned now."""
    return _call(key, case_views.bans_in_force, target)


@_cached("casework", MANY)
def batch_rows(key, batch_id: str) -> pd.DataFrame:
    """The ban list frozen in a batch."""
    return _call(key, case_views.batch_rows, batch_id)


@_cached("casework", FEW)
def store_policy(key) -> dict:
    """The store's policies in force (the four-eyes size among them)."""
    return _call(key, policy.current)


@_cached("both", FEW)
def casework_counts(key) -> dict:
    """What waits for analysts (decisions, approvals) and bans in force."""
    return _call(key, case_views.casework_counts)


@_cached("casework", MANY)
def ring_history(key, ring_id: str) -> pd.DataFrame:
    """Lineage events naming a ring id, oldest first."""
    return _call(key, case_views.ring_history, ring_id)


@_cached("casework", FEW)
def audit_log(key) -> tuple[pd.DataFrame, dict]:
    """The audit log (newest first) and its verification."""
    with open_engine(key[0], key[1]) as engine:
        return case_views.audit_entries(engine), case_views.audit_status(engine)


@_cached("casework", FEW)
def audit_view(key) -> pd.DataFrame:
    """The audit log (newest first) with the rings and accounts each entry touched, for filtering."""
    return _call(key, audit_view_module.audit_view)


@_cached("casework", MANY)
def earlier_rings(key, ring_id: str) -> pd.DataFrame:
    """Rings this one came from through splits and merges, with their decisions."""
    return _call(key, case_views.earlier_rings, ring_id)


@_cached("results", MANY)
def ring_graph(key, ring_id: str, show_discounted: bool) -> network.NetworkView:
    """One ring's network, laid out (seeded): the layout is computed once per ring and toggle."""
    return _call(key, network.ring_graph, ring_id, show_discounted)


@_cached("results", MANY)
def neighbourhood_graph(key, account_id: str, hops: int, expand: tuple) -> network.NetworkView:
    """An account's neighbourhood through evidence-carrying values, with the nodes the analyst expanded."""
    return _call(key, neighbourhood.neighbourhood_graph, account_id, hops, expand)


@_cached("results", MANY)
def member_table(key, ring_id: str) -> pd.DataFrame:
    """A ring's members led by each account's own evidence and score (``account_views.member_table``)."""
    return _call(key, account_views.member_table, ring_id)


@_cached("both", MANY)
def ban_table(key, rings: tuple[str, ...], min_score: float | None) -> pd.DataFrame:
    """Ban-list rows for a selection led by each account's own evidence and score."""
    with open_engine(key[0], key[1]) as engine:
        return account_views.ban_table(engine, views.ban_list(engine, list(rings) or None, min_score))


@_cached("results", MANY)
def account_timeline(key, account_id: str, bucket_minutes: int) -> dict:
    """One account's requests, tokens, models, templates and request IPs per bucket."""
    return _call(key, account_views.account_timeline, account_id, bucket_minutes)


@_cached("results", MANY)
def member_comparison(key, account_ids: tuple[str, ...], bucket_minutes: int) -> pd.DataFrame:
    """Requests and output tokens per account and bucket, for these accounts."""
    return _call(key, account_views.member_comparison, list(account_ids), bucket_minutes)


@_cached("both", FEW)
def review_queue(key) -> tuple[pd.DataFrame, dict]:
    """The review queue and its health now, over every decision on record (``queue_views``)."""
    with open_engine(key[0], key[1]) as engine:
        table = queue_views.queue(engine)
        return table, queue_views.health(engine, table=table)


@_cached("casework", MANY)
def queue_events(key, ring_id: str) -> pd.DataFrame:
    """A ring's takes, releases, reassignments and comments, newest first."""
    return _call(key, queue.events, ring_id).iloc[::-1].reset_index(drop=True)
