"""Stable ring identity across detection runs, and the lineage events that connect them.

Community detection names its groups afresh on every run; analysts' decisions need a ring
to keep its name while it grows or sheds members. After each run the new clusters are
matched to the previous run's rings by shared members.

Matching rule (a mutual best match, in the spirit of the overlap matching used to track
communities over time, Greene et al., "Tracking the evolution of communities in dynamic
social networks", ASONAM 2010):

- a previous ring's *best destination* is the new cluster holding most of its members;
  a new cluster's *best source* is the previous ring that supplied most of its members;
  ties go to the larger group, then to the smallest member id, so the result never
  depends on input order;
- a new cluster keeps a previous ring's id when each is the other's best match and the
  shared members are at least half of the previous ring or more than half of the new
  cluster; every other cluster gets the membership-hash id (``detect.ring_id``).

Events (one row each, columns ``LINEAGE_COLUMNS``):

- ``unchanged``: same id, same members; ``grown``: same id, gained members and is not
  smaller; ``shrunk``: same id, fewer members;
- ``new``: a cluster that kept no id (``related_ids``: the previous rings it drew members
  from, empty for a ring never seen);
- ``merged``: a cluster that is the best destination of two or more previous rings
  (``related_ids``: those rings); it replaces the grown/shrunk/new event of that cluster;
- ``split``: a previous ring whose members now sit in two or more clusters holding at
  least ``max(2, 20%)`` of them each (``ring_id`` is the previous ring, ``related_ids``
  the parts); reported in addition to the parts' own events;
- ``dissolved``: a previous ring whose id nobody kept and that no merge or split
  accounts for.

Re-running on unchanged data gives every ring its old id and only ``unchanged`` events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping

import pandas as pd

from ..engines import Engine, EngineError

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = ["event", "ring_id", "related_ids", "size_before", "size_after", "joined", "left"]
SPLIT_SHARE = 0.2


def previous_rings(engine: Engine) -> dict[str, frozenset]:
    """Members per ring id of the run stored now (every cluster, flagged or not); empty before the first run."""
    try:
        accounts = engine.results("accounts")
        rings = engine.results("rings")
    except EngineError:
        return {}
    if accounts.empty or rings.empty or "cluster_id" not in rings:
        return {}
    name = rings.dropna(subset=["cluster_id"]).set_index("cluster_id")["ring_id"]
    members = accounts.dropna(subset=["cluster_id"]).assign(ring=lambda f: f["cluster_id"].map(name))
    members = members.dropna(subset=["ring"])
    return {r: frozenset(g) for r, g in members.groupby("ring")["account_id"]}


def _best(counts: dict, size: Mapping, key_min: Mapping):
    """The entry with the largest overlap; ties to the larger group, then the smallest member id."""
    return min(counts, key=lambda k: (-counts[k], -size[k], key_min[k]))


def match_rings(previous: Mapping[str, frozenset], current: Mapping, fresh_id: Callable) -> tuple[dict, pd.DataFrame]:
    """Name the current clusters and describe how they came from the previous rings.

    Args:
        previous: ring id -> member ids of the previous run.
        current: cluster key -> member ids of this run.
        fresh_id: names a cluster that keeps no previous id (from its members).

    Returns:
        (cluster key -> ring id, lineage events as a DataFrame with ``LINEAGE_COLUMNS``).
    """
    m = _Matching({r: frozenset(x) for r, x in previous.items()}, {c: frozenset(x) for c, x in current.items()})
    names, kept = m.names(fresh_id)
    frame = pd.DataFrame(m.events(names, kept), columns=LINEAGE_COLUMNS)
    frame["related_ids"] = frame["related_ids"].map(lambda ids: ",".join(ids))
    log.info("lineage: %s", frame["event"].value_counts().to_dict())
    return names, frame.reset_index(drop=True)


class _Matching:
    """Overlaps between the previous run's rings and this run's clusters, and each side's best match."""

    def __init__(self, previous: dict[str, frozenset], current: dict):
        self.previous, self.current = previous, current
        ring_of = {a: r for r, members in previous.items() for a in members}
        self.sources: dict = {}  # cluster -> previous ring -> shared members
        for c, members in current.items():
            for a in members:
                r = ring_of.get(a)
                if r is not None:
                    self.sources.setdefault(c, {}).setdefault(r, 0)
                    self.sources[c][r] += 1
        self.destinations: dict = {}  # previous ring -> cluster -> shared members
        for c, per_ring in self.sources.items():
            for r, n in per_ring.items():
                self.destinations.setdefault(r, {})[c] = n
        self.prev_size = {r: len(x) for r, x in previous.items()}
        self.cur_size = {c: len(x) for c, x in current.items()}
        self.cur_min = {c: min(x) for c, x in current.items()}
        prev_min = {r: min(x) for r, x in previous.items()}
        self.best_dest = {r: _best(d, self.cur_size, self.cur_min) for r, d in self.destinations.items()}
        self.best_src = {c: _best(s, self.prev_size, prev_min) for c, s in self.sources.items()}

    def names(self, fresh_id: Callable) -> tuple[dict, dict]:
        """(cluster -> ring id, previous ring -> the cluster that kept its id): mutual best matches keep ids."""
        names, kept = {}, {}
        for c in sorted(self.current, key=lambda k: self.cur_min[k]):
            r = self.best_src.get(c)
            if r is not None and self.best_dest[r] == c:
                shared = self.sources[c][r]
                if 2 * shared >= self.prev_size[r] or 2 * shared > self.cur_size[c]:
                    names[c], kept[r] = r, c
                    continue
            names[c] = fresh_id(self.current[c])
        return names, kept

    def events(self, names: dict, kept: dict) -> list[dict]:
        """Every lineage event: one per current cluster, then splits and dissolutions of previous rings."""
        merged_from: dict = {}
        for r, c in self.best_dest.items():
            merged_from.setdefault(c, []).append(r)
        accounted: set = set()
        events = [self._cluster_event(c, names[c], merged_from.get(c, []), accounted)
                  for c in sorted(self.current, key=lambda k: names[k])]
        for r in sorted(self.previous):
            parts = [c for c, n in self.destinations.get(r, {}).items() if n >= max(2, SPLIT_SHARE * self.prev_size[r])]
            after = len(self.previous[r] & self.current[kept[r]]) if r in kept else 0
            row = {"ring_id": r, "size_before": self.prev_size[r], "size_after": after, "joined": 0, "left": 0}
            if len(parts) >= 2:
                accounted.add(r)
                events.append({"event": "split", "related_ids": sorted(names[c] for c in parts), **row})
            elif r not in kept and r not in accounted:
                events.append({"event": "dissolved", "related_ids": [], **row, "left": self.prev_size[r]})
        return events

    def _cluster_event(self, c, rid: str, merged_from: list, accounted: set) -> dict:
        """A current cluster's event: merged, unchanged, grown, shrunk or new."""
        members = self.current[c]
        before = self.previous.get(rid, frozenset())
        joined, left = len(members - before), len(before - members)
        row = {"ring_id": rid, "size_before": len(before), "size_after": len(members), "joined": joined, "left": left}
        if len(merged_from) >= 2:
            related = sorted(merged_from)
            accounted.update(related)
            return {"event": "merged", "related_ids": related, **row}
        if rid in self.previous:
            kind = "unchanged" if not joined and not left else "shrunk" if len(members) < len(before) else "grown"
            return {"event": kind, "related_ids": [], **row}
        return {"event": "new", "related_ids": sorted(self.sources.get(c, {})), **row}


# The ``lineage`` ledger keeps every run's events, so changes can be followed across weeks.
HISTORY_COLUMNS = ["run_at", "data_until", "flagged", *LINEAGE_COLUMNS]


def flagged_ring_ids(engine: Engine) -> set[str]:
    """Ids of the rings flagged by the run stored now; empty before the first run."""
    try:
        rings = engine.results("rings")
    except EngineError:
        return set()
    return set(rings.loc[rings["flagged"].astype(bool), "ring_id"]) if len(rings) else set()


def record_history(engine: Engine, lineage: pd.DataFrame, rings: pd.DataFrame, previously_flagged: set,
                   run_at: pd.Timestamp, data_until) -> None:
    """Append one run's lineage events to the ``lineage`` ledger.

    ``data_until`` (the latest usage record the run saw) places the run in the data's own
    time, so a review window finds the runs that covered it even when weeks of data are
    replayed in one sitting. ``flagged`` is whether the ring was flagged in this run (for
    ``split`` and ``dissolved``: in the previous run, where the ring last existed).
    """
    if lineage.empty:
        return
    now = set(rings.loc[rings["flagged"].astype(bool), "ring_id"]) if len(rings) else set()
    gone = lineage["event"].isin(["split", "dissolved"])
    flagged = [(r in previously_flagged) if g else (r in now) for r, g in zip(lineage["ring_id"], gone)]
    until = None if data_until is None or pd.isna(data_until) else pd.Timestamp(data_until).isoformat()
    rows = lineage.assign(run_at=pd.Timestamp(run_at).isoformat(), data_until=until, flagged=flagged)
    engine.append_records("lineage", rows[HISTORY_COLUMNS])


# The only true value a lineage row holds is its ``flagged``: a row whose text lacks this was not flagged.
FLAGGED_TEXT = "true"


def history(engine: Engine, mentioning: str | None = None) -> pd.DataFrame:
    """Every run's lineage events, oldest first (``HISTORY_COLUMNS`` plus ``seq``; times as timestamps).

    With ``mentioning`` (a ring id, or ``FLAGGED_TEXT``), only the events whose stored row holds that text: every
    run adds a row per group, so a question about one ring or about flagged rings spares parsing all of them. The
    text is a pre-filter; callers still test the fields they mean.
    """
    # As the stored text spells it (``ledger_bodies``: JSON with its escapes).
    frame = engine.records("lineage", containing=None if mentioning is None else json.dumps(mentioning)[1:-1])
    if frame.empty or "event" not in frame:
        return pd.DataFrame(columns=["seq", *HISTORY_COLUMNS])
    for column in ("run_at", "data_until"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("size_before", "size_after", "joined", "left"):
        frame[column] = frame[column].astype("int64")
    frame["flagged"] = frame["flagged"].astype(bool)
    frame["related_ids"] = frame["related_ids"].fillna("").astype(str)
    return frame


def latest_events(engine: Engine) -> pd.DataFrame:
    """The lineage events of the last detection run (``HISTORY_COLUMNS`` plus ``seq``); none before the first run."""
    events = history(engine)
    try:
        finished = pd.to_datetime(engine.results("runs")["finished_at"]).max()
    except EngineError:
        return events.iloc[0:0]
    return events[events["run_at"] == finished].reset_index(drop=True)
