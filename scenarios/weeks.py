"""The demo over several weeks: one base scenario cut into consecutive weekly batches.

The base scenario (``generate``) covers ``7 * weeks`` days of usage. Each ground-truth
ring gets a fate, drawn from the seed except for the split group, which is chosen by size
(with one week every ring is steady):

- ``steady``: members appear in the week they signed up (week 1 for older ones);
- ``grow``: 40% of its members sign up later, spread over weeks 2..N (the ring grows);
- ``split``: three tight-knit rings of similar size (farms, else farms and hydras) of
  different operators buy from one reseller: a few accounts of each sign up from the
  reseller's machine (the same device fingerprint and signup IP), which links the
  rings. Only their first members appear in the first week the group is seen, few
  enough that detection finds one ring; the rest join the week after (or later, when
  they signed up later). Once the linked group passes the size at which detection looks for
  communities inside a component, the operators' rings come apart again and the ring
  seen earlier is reported as ``split``;
- ``new``: the whole ring signs up in one later week (a ring never seen before);
- ``quiet``: stops sending requests from a chosen week on (the last week for the first
  quiet ring, earlier weeks for the next ones, never before its last member signed up).

A quiet ring is still a ring: its accounts and the identifiers they share stay in the
store, so detection keeps finding it and lineage does not report it ``dissolved``; the
weekly review lists it among the rings that went quiet (requests in the week before the
window, none inside it).

A ring's members never appear before their own signup week, except the first members
of a split group, which may sign up a few days early. Legitimate accounts appear in the
week their signup falls in (week 1 for anyone older). A ring member placed in another
week gets a signup time inside it, keeping its offset from the ring's first signup when
that is under six days, so members still arrive in a burst; its usage before that time
is dropped. Week k's files hold the accounts that appear in week k, their labels (fraud
members keep their ``ring_id``), and the usage rows timed inside week k. The same
(accounts, seed, weeks) give the same files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ringwatch.files import replacing

from .generate import generate
from .population_model import DAY, END

log = logging.getLogger(__name__)

# Share of rings per fate, in order of assignment; the split group overrides these, the rest stay steady.
FATE_SHARES = (("grow", 0.3), ("new", 0.2), ("quiet", 0.15))
JOINER_SHARE = 0.4
WEEK = 7 * DAY
# The split group: dense rings whose members link to each other, so detection keeps each
# whole and the split comes from the bridge alone. Detection looks inside components of
# 40 accounts or more (``split_min_size``) and keeps a split whose modularity reaches
# 0.35: the group's first week stays below 40 (at most SPLIT_RINGS * SPLIT_CORE members)
# and the whole group passes it well (SPLIT_TOTAL). A dense ring's links grow with the
# square of its size, and a split into parts holding shares p of the links has a
# modularity of about 1 - sum(p^2): three rings whose sizes differ by at most SPLIT_SPREAD
# keep it near 0.5 or above, where one ring much larger than the others would not.
SPLIT_KINDS = ("farm", "hydra")
SPLIT_RINGS = 3
SPLIT_TOTAL = 48
SPLIT_SPREAD = 2.5
SPLIT_CORE = 10
SPLIT_MIN_RING = 8
BRIDGE = 2  # accounts per ring that sign up from the reseller's machine


@dataclass
class WeekFiles:
    """One week's batch: its files and what they hold."""

    week: int
    start: pd.Timestamp
    end: pd.Timestamp
    signups: Path
    usage: Path
    labels: Path
    accounts: int
    fraud_accounts: int
    usage_rows: int


@dataclass
class WeeksScenario:
    """The weekly batches, oldest first, each ground-truth ring's fate and how the designed fates played out.

    ``quiet_weeks``: the week (1-based) from which each quiet ring sends no requests;
    ``bridge_accounts``: the split group's accounts that share the reseller's machine.
    """

    weeks: list[WeekFiles]
    fates: dict[str, str] = field(default_factory=dict)
    quiet_weeks: dict[str, int] = field(default_factory=dict)
    bridge_accounts: list[str] = field(default_factory=list)


def ring_table(acc: pd.DataFrame) -> pd.DataFrame:
    """Per ground-truth ring (index): size, scenario, first and last week its members sign up in."""
    members = acc.dropna(subset=["ring_id"])
    return members.groupby("ring_id").agg(size=("account_id", "size"), scenario=("scenario", "first"),
                                          first_week=("week", "min"), last_week=("week", "max"))


def split_group(rings: pd.DataFrame, weeks: int) -> list[str]:
    """The rings a reseller links: SPLIT_RINGS dense rings of similar size, seen before the last week."""
    fit = rings[rings["scenario"].isin(SPLIT_KINDS) & (rings["size"] >= SPLIT_MIN_RING)
                & (rings["first_week"] <= weeks - 2)].reset_index()
    # Farms link on signup identifiers alone, so members who join late are found at once;
    # hydras also need their requests: farms alone when enough of them fit.
    for pool in (fit[fit["scenario"] == SPLIT_KINDS[0]], fit):
        pool = pool.sort_values(["size", "ring_id"]).reset_index(drop=True)
        for i in range(len(pool) - SPLIT_RINGS + 1):
            window = pool.iloc[i:i + SPLIT_RINGS]
            sizes = window["size"].to_numpy()
            if sizes.sum() >= SPLIT_TOTAL and sizes[-1] <= SPLIT_SPREAD * sizes[0]:
                return sorted(window["ring_id"])
    return []


def ring_fates(rings: pd.DataFrame, weeks: int, seed: int) -> dict[str, str]:
    """Fate per ring id (``rings``: the ``ring_table``); with one week every ring is steady."""
    ids = sorted(rings.index)
    if weeks < 2:
        return {r: "steady" for r in ids}
    order = np.random.default_rng([seed, 97]).permutation(len(ids))
    fates, start = {}, 0
    for fate, share in FATE_SHARES:
        count = int(round(share * len(ids)))
        for i in order[start:start + count]:
            # A ring that signs up in the last week has no later week to go quiet in.
            if fate != "quiet" or rings.at[ids[i], "last_week"] <= weeks - 2:
                fates[ids[i]] = fate
        start += count
    fates.update({r: "split" for r in split_group(rings, weeks)})
    return {r: fates.get(r, "steady") for r in ids}


def _split_weeks(acc: pd.DataFrame, group: list[str], rng) -> list[int]:
    """Place the split group's members in their weeks; returns the rows of the bridge accounts."""
    rows = {r: acc[acc["ring_id"] == r].sort_values(["created_at", "account_id"]).index for r in group}
    start = max(int(acc.loc[r, "week"].min()) for r in rows.values())
    bridge = []
    for r in group:
        core = rows[r][:max(BRIDGE, min(SPLIT_CORE, len(rows[r]) // 2))]
        joiners = rows[r][len(core):]
        acc.loc[core, "week"] = start
        acc.loc[joiners, "week"] = np.maximum(acc.loc[joiners, "week"], start + 1)
        bridge += sorted(rng.choice(core, BRIDGE, replace=False).tolist())
    return bridge


def _plan(signups: pd.DataFrame, labels: pd.DataFrame, weeks: int, seed: int, window_start: pd.Timestamp):
    """Per account: the week it appears in, its signup time, the week its usage stops; fates, quiet weeks, bridge rows."""
    acc = signups[["account_id", "created_at"]].merge(labels[["account_id", "ring_id", "scenario"]],
                                                      on="account_id", how="left")
    acc = acc.sort_values("account_id").reset_index(drop=True)
    since_start = (acc["created_at"] - window_start) // pd.Timedelta(seconds=WEEK)
    acc["week"] = since_start.clip(lower=0, upper=weeks - 1).astype(int)
    acc["quiet_from"] = weeks
    fates = ring_fates(ring_table(acc), weeks, seed)
    rng = np.random.default_rng([seed, 98])
    later = max(1, weeks - 1)
    quiet_weeks, quiet_count = {}, 0
    for i, (rid, fate) in enumerate(sorted(fates.items())):
        rows = acc.index[acc["ring_id"] == rid]
        if fate == "grow":
            joiners = rng.choice(rows, max(1, int(JOINER_SHARE * len(rows))), replace=False)
            acc.loc[joiners, "week"] = np.maximum(acc.loc[joiners, "week"], 1 + rng.integers(0, later, len(joiners)))
        elif fate == "new":
            acc.loc[rows, "week"] = acc.loc[rows, "week"].clip(lower=1 + i % later)
        elif fate == "quiet":
            # The first quiet ring goes quiet in the last week, so the default review window shows it.
            quiet_from = max(int(acc.loc[rows, "week"].max()) + 1, weeks - 1 - quiet_count % later)
            acc.loc[rows, "quiet_from"] = quiet_from
            quiet_weeks[rid] = quiet_from + 1
            quiet_count += 1
    group = sorted(r for r, f in fates.items() if f == "split")
    bridge = _split_weeks(acc, group, rng) if group else []
    # Ring members placed in another week sign up inside it, in a burst like the original one.
    first = acc.groupby("ring_id")["created_at"].transform("min")
    offset = acc["created_at"] - first
    jitter = pd.to_timedelta(rng.integers(0, 2 * DAY, len(acc)), unit="s")
    offset = offset.where(offset < pd.Timedelta(days=6), jitter)
    week_start = window_start + acc["week"] * pd.Timedelta(seconds=WEEK)
    outside = (acc["created_at"] < week_start) | (acc["created_at"] >= week_start + pd.Timedelta(seconds=WEEK))
    moved = acc["ring_id"].notna() & outside
    acc["created_at"] = acc["created_at"].where(~moved, week_start + offset)
    return acc, fates, quiet_weeks, bridge


def _bridge(signups: pd.DataFrame, bridge: list[str], seed: int) -> None:
    """The bridge accounts sign up from one machine: a fresh device fingerprint and the first one's IP."""
    if not bridge:
        return
    rows = signups.index[signups["account_id"].isin(bridge)]
    first = signups.loc[signups["account_id"] == bridge[0], "ip"].iloc[0]
    device = np.random.default_rng([seed, 99]).bytes(16).hex()
    signups.loc[rows, "device_id"] = device
    signups.loc[rows, "ip"] = first


def generate_weeks(out_dir, *, weeks: int, accounts: int = 20_000, seed: int = 0,
                   requests_per_account: float = 20) -> WeeksScenario:
    """Write ``weeks`` consecutive weekly batches (``week_01``, ``week_02``, ...) into ``out_dir``."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    out = Path(out_dir)
    base = generate(out / "base", accounts=accounts, seed=seed, days=7 * weeks,
                    requests_per_account=requests_per_account, fmt="parquet", dirty_rows=False)
    window_start = pd.Timestamp(END - weeks * WEEK, unit="s", tz="UTC")
    signups = pd.read_parquet(base.signups)
    labels = pd.read_parquet(base.labels)
    usage = pd.read_parquet(base.usage)
    plan, fates, quiet_weeks, bridge_rows = _plan(signups, labels, weeks, seed, window_start)
    bridge = sorted(plan.loc[bridge_rows, "account_id"])
    plan = plan.set_index("account_id")
    signups["created_at"] = signups["account_id"].map(plan["created_at"]).astype(signups["created_at"].dtype)
    _bridge(signups, bridge, seed)
    signups["week"] = signups["account_id"].map(plan["week"])
    labels["week"] = labels["account_id"].map(plan["week"])
    usage_week = ((usage["ts"] - window_start) // pd.Timedelta(seconds=WEEK)).clip(0, weeks - 1)
    created = usage["account_id"].map(plan["created_at"])
    keep = (usage["ts"] >= created) & (usage_week < usage["account_id"].map(plan["quiet_from"]))
    result = []
    for k in range(weeks):
        folder = out / f"week_{k + 1:02d}"
        paths = {name: folder / f"{name}.parquet" for name in ("signups", "usage", "labels")}
        new_signups = signups[signups["week"] == k].drop(columns="week")
        new_labels = labels[labels["week"] == k].drop(columns="week")
        week_usage = usage[keep & (usage_week == k)]
        for frame, path in ((new_signups, paths["signups"]), (new_labels, paths["labels"]), (week_usage, paths["usage"])):
            with replacing(path) as temp:
                frame.to_parquet(temp, index=False)
        start = window_start + k * pd.Timedelta(seconds=WEEK)
        result.append(WeekFiles(week=k + 1, start=start, end=start + pd.Timedelta(seconds=WEEK), **paths,
                                accounts=len(new_signups), fraud_accounts=int((new_labels["label"] == "fraud").sum()),
                                usage_rows=len(week_usage)))
        log.info("week %d: %d accounts, %d usage rows", k + 1, len(new_signups), len(week_usage))
    return WeeksScenario(weeks=result, fates=fates, quiet_weeks=quiet_weeks, bridge_accounts=bridge)
