"""The demo over several weeks: one base scenario cut into consecutive weekly batches.

The base scenario (``generate``) covers ``7 * weeks`` days of usage. Each ground-truth
ring gets a fate, drawn from the seed:

- ``steady``: members appear in the week they signed up (week 1 for older ones);
- ``grow``: 40% of its members sign up later, spread over weeks 2..N (the ring grows);
- ``new``: the whole ring signs up in one later week (a ring never seen before);
- ``quiet``: sends no requests after the week its last member signed up (it goes quiet).

A ring's members never appear before their own signup week. Legitimate accounts appear in the week their signup falls in (week 1 for anyone older).
A ring member that joins late gets a signup time inside its week, keeping its offset
from the ring's first signup when that is under six days, so joiners still arrive in a
burst; its usage before that time is dropped. Week k's files hold the accounts that
appear in week k, their labels (fraud members keep their ``ring_id``), and the usage
rows timed inside week k. The same (accounts, seed, weeks) give the same files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .generate import generate
from .population_model import DAY, END

log = logging.getLogger(__name__)

FATES = ("steady", "grow", "new", "quiet")
# Share of rings per fate, in order of assignment; the rest stay steady.
FATE_SHARES = (("grow", 0.3), ("new", 0.2), ("quiet", 0.15))
JOINER_SHARE = 0.4
WEEK = 7 * DAY


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
    """The weekly batches, oldest first, and each ground-truth ring's fate."""

    weeks: list[WeekFiles]
    fates: dict[str, str] = field(default_factory=dict)


def ring_fates(ring_ids, weeks: int, seed: int) -> dict[str, str]:
    """Fate per ring id; with one week every ring is steady."""
    ids = sorted(ring_ids)
    if weeks < 2:
        return {r: "steady" for r in ids}
    order = np.random.default_rng([seed, 97]).permutation(len(ids))
    fates, start = {}, 0
    for fate, share in FATE_SHARES:
        count = int(round(share * len(ids)))
        for i in order[start:start + count]:
            fates[ids[i]] = fate
        start += count
    return {r: fates.get(r, "steady") for r in ids}


def _plan(signups: pd.DataFrame, labels: pd.DataFrame, weeks: int, seed: int, window_start: pd.Timestamp):
    """Per account: the week it appears in, its signup time, and the week its usage stops (or None)."""
    acc = signups[["account_id", "created_at"]].merge(labels[["account_id", "ring_id"]], on="account_id", how="left")
    acc = acc.sort_values("account_id").reset_index(drop=True)
    since_start = (acc["created_at"] - window_start) // pd.Timedelta(seconds=WEEK)
    acc["week"] = since_start.clip(lower=0, upper=weeks - 1).astype(int)
    acc["quiet_from"] = weeks
    fates = ring_fates(acc["ring_id"].dropna().unique(), weeks, seed)
    rng = np.random.default_rng([seed, 98])
    later = max(1, weeks - 1)
    for i, (rid, fate) in enumerate(sorted(fates.items())):
        rows = acc.index[acc["ring_id"] == rid]
        if fate == "grow":
            joiners = rng.choice(rows, max(1, int(JOINER_SHARE * len(rows))), replace=False)
            acc.loc[joiners, "week"] = np.maximum(acc.loc[joiners, "week"], 1 + rng.integers(0, later, len(joiners)))
        elif fate == "new":
            acc.loc[rows, "week"] = acc.loc[rows, "week"].clip(lower=1 + i % later)
        elif fate == "quiet":
            acc.loc[rows, "quiet_from"] = acc.loc[rows, "week"].max() + 1
    # Late ring members sign up inside their week, in a burst like the original one.
    first = acc.groupby("ring_id")["created_at"].transform("min")
    offset = acc["created_at"] - first
    jitter = pd.to_timedelta(rng.integers(0, 2 * DAY, len(acc)), unit="s")
    offset = offset.where(offset < pd.Timedelta(days=6), jitter)
    week_start = window_start + acc["week"] * pd.Timedelta(seconds=WEEK)
    moved = acc["ring_id"].notna() & (acc["created_at"] < week_start)
    acc["created_at"] = acc["created_at"].where(~moved, week_start + offset)
    return acc, fates


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
    plan, fates = _plan(signups, labels, weeks, seed, window_start)
    plan = plan.set_index("account_id")
    signups["created_at"] = signups["account_id"].map(plan["created_at"]).astype(signups["created_at"].dtype)
    signups["week"] = signups["account_id"].map(plan["week"])
    labels["week"] = labels["account_id"].map(plan["week"])
    usage_week = ((usage["ts"] - window_start) // pd.Timedelta(seconds=WEEK)).clip(0, weeks - 1)
    created = usage["account_id"].map(plan["created_at"])
    keep = (usage["ts"] >= created) & (usage_week < usage["account_id"].map(plan["quiet_from"]))
    result = []
    for k in range(weeks):
        folder = out / f"week_{k + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        paths = {name: folder / f"{name}.parquet" for name in ("signups", "usage", "labels")}
        new_signups = signups[signups["week"] == k].drop(columns="week")
        new_labels = labels[labels["week"] == k].drop(columns="week")
        week_usage = usage[keep & (usage_week == k)]
        new_signups.to_parquet(paths["signups"], index=False)
        new_labels.to_parquet(paths["labels"], index=False)
        week_usage.to_parquet(paths["usage"], index=False)
        start = window_start + k * pd.Timedelta(seconds=WEEK)
        result.append(WeekFiles(week=k + 1, start=start, end=start + pd.Timedelta(seconds=WEEK), **paths,
                                accounts=len(new_signups), fraud_accounts=int((new_labels["label"] == "fraud").sum()),
                                usage_rows=len(week_usage)))
        log.info("week %d: %d accounts, %d usage rows", k + 1, len(new_signups), len(week_usage))
    return WeeksScenario(weeks=result, fates=fates)
