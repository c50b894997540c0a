"""Generate the demo scenario: signups, usage and labels files that follow the data contract.

The population (``scenarios``) mixes legitimate sharing (organisations on one card,
universities and mobile carriers behind NAT, families, proxy and SDK power users) with
distillation rings (sloppy farms, proxy hydras, camouflaged rings, small rings).
Output is deterministic for (accounts, seed, days, requests_per_account, fmt): no clock,
fixed window ending 2026-11-16T00:00:00Z, seeded generators, gzip without a timestamp.

Timestamps: ISO-8601 strings with ``Z`` in CSV/JSONL. In Parquet they are UTC timestamps,
except when ``dirty_rows`` is on: then ``created_at``/``ts`` are ISO strings in Parquet
too, because an unparseable timestamp (a contract-breaking row the quarantine must
catch) cannot be stored in a timestamp column.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ringwatch.files import replacing

from . import population_model as pm
from .day_pool import ordered_days
from .populations import build_population
from .population_tables import AccountKeys, PopulationTables, account_keys, render_population
from .traffic import TrafficModel

log = logging.getLogger(__name__)

FORMATS = {"parquet": ".parquet", "csv": ".csv.gz", "jsonl": ".jsonl.gz"}
ROW_GROUP = 1 << 20  # rows per Parquet row group, and per piece gathered for writing
DIRTY_SHARE = 0.001
PLACEHOLDER_SHARE = 0.001
# Below this many accounts a day takes less than starting worker processes saves.
PARALLEL_FROM = 100_000
BAD_TIMESTAMPS = ["not-a-date", "2026-02-30T25:61:00Z", "", "yesterday", "N/A",
                  "1699999999999999", "16/11/2026 10:00"]


@dataclass
class GeneratedFiles:
    """Paths of the written files and what they hold."""
    signups: Path
    usage: Path
    labels: Path
    accounts: int
    fraud_accounts: int
    rings: int
    signup_rows: int
    usage_rows: int
    usage_requests: int
    label_rows: int
    dirty_signup_rows: int
    dirty_usage_rows: int


class _Writer:
    """Append tables to one Parquet, gzip CSV or gzip JSON Lines file."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self._pq = self._csv = self._raw = self._gz = None

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._pq.write_table(table, row_group_size=ROW_GROUP)
            return
        if self._gz is None:
            self._raw = open(self.path, "wb")
            # mtime=0 and no file name in the header keep the bytes reproducible.
            self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0, filename="")
        if self.fmt == "csv":
            if self._csv is None:
                opts = pacsv.WriteOptions(quoting_style="needed")
                self._csv = pacsv.CSVWriter(self._gz, table.schema, write_options=opts)
            self._csv.write_table(table)
        else:
            text = table.to_pandas().to_json(orient="records", lines=True)
            # pandas escapes "/" as "\/"; generated values never contain a backslash.
            self._gz.write(text.replace("\\/", "/").encode())

    def write_rows(self, table: pa.Table, rows: np.ndarray) -> None:
        """Write ``table.take(rows)`` one row group at a time, never gathering it whole."""
        for start in range(0, len(rows), ROW_GROUP):
            self.write(table.take(pa.array(rows[start:start + ROW_GROUP])))

    def close(self) -> None:
        for handle in (self._pq, self._csv, self._gz, self._raw):
            if handle is not None:
                handle.close()


@contextmanager
def _writing(path: Path, fmt: str) -> Iterator[_Writer]:
    """A ``_Writer`` whose file replaces ``path`` only when the block completes (``replacing``)."""
    with replacing(path) as temp:
        writer = _Writer(temp, fmt)
        try:
            yield writer
        finally:
            writer.close()


def _iso(seconds: pa.Array) -> pa.Array:
    """ISO-8601 UTC strings; formats each distinct value once (buckets repeat a lot)."""
    values = np.asarray(seconds.to_numpy(zero_copy_only=False), np.int64)
    uniq, inverse = np.unique(values, return_inverse=True)
    text = pc.strftime(pa.array(uniq, pa.timestamp("s", tz="UTC")),
                       format="%Y-%m-%dT%H:%M:%SZ")
    return text.take(pa.array(inverse))


def _time_column(seconds: pa.Array, as_text: bool) -> pa.Array:
    if as_text:
        return _iso(seconds)
    return pa.array(np.asarray(seconds.to_numpy(zero_copy_only=False), np.int64) * 1000,
                    pa.timestamp("ms", tz="UTC"))


def _insert_rows(table: pa.Table, extra: pa.Table, rng) -> tuple[pa.Table, np.ndarray]:
    """`table` and `extra` as one table, and an order of its rows that scatters `extra`
    at random positions between the rows of `table`."""
    both = pa.concat_tables([table, extra.cast(table.schema)])
    keys = np.concatenate([np.arange(len(table), dtype=float),
                           rng.uniform(0, len(table), len(extra))])
    return both, np.argsort(keys, kind="stable")


def _set(table: pa.Table, name: str, rows: np.ndarray, value) -> pa.Table:
    mask = np.zeros(len(table), bool)
    mask[rows] = True
    col = pc.if_else(pa.array(mask), pa.scalar(value, table[name].type), table[name])
    return table.set_column(table.schema.get_field_index(name), name, col)


def _with_placeholders(signups: pa.Table, scenario: np.ndarray, rng) -> pa.Table:
    """Valid rows whose email/IP/device is a placeholder that must never link accounts."""
    pool = np.flatnonzero(scenario == pm.INDIVIDUAL)
    k = max(3, int(len(signups) * PLACEHOLDER_SHARE))
    picked = rng.choice(pool, 3 * k, replace=False)
    signups = _set(signups, "email", picked[:k], "test@test.com")
    signups = _set(signups, "ip", picked[k:2 * k], "0.0.0.0")
    return _set(signups, "device_id", picked[2 * k:], "unknown")


def _bad_signups(signups: pa.Table, order: np.ndarray, id_width: int, n_accounts: int,
                 rng) -> pa.Table:
    """Contract-breaking signup rows: empty key or unparseable created_at.

    They copy random rows of the written order (`signups` taken at `order`).
    """
    k = max(4, int(len(signups) * DIRTY_SHARE))
    bad = signups.take(pa.array(order[rng.integers(0, len(signups), k)]))
    # Fresh ids above the range real accounts use, so no label points at a bad row.
    # Drawing positions in the range, not from an array of it, picks the same ids without
    # holding the range in memory (10**9 ids at 10M accounts).
    low = 10 * n_accounts + 1
    fresh = [f"acct_{n:0{id_width}d}" for n in
             low + rng.choice(10 ** id_width - low, k, replace=False)]
    ids = [("" if i % 2 == 0 else fresh[i]) for i in range(k)]
    created = [bad["created_at"][i].as_py() if i % 2 == 0 else
               BAD_TIMESTAMPS[i % len(BAD_TIMESTAMPS)] for i in range(k)]
    bad = bad.set_column(0, "account_id", pa.array(ids, pa.string()))
    return bad.set_column(1, "created_at", pa.array(created, pa.string()))


def _bad_usage(day: pa.Table, offset: int, rng) -> pa.Table:
    """Contract-breaking usage rows: negative tokens, garbage ts, empty account_id."""
    k = max(1, int(len(day) * DIRTY_SHARE))
    bad = day.take(pa.array(rng.integers(0, len(day), k)))
    kind = (np.arange(k) + offset) % 3
    ts = [BAD_TIMESTAMPS[i % len(BAD_TIMESTAMPS)] if kind[i] == 1 else v
          for i, v in enumerate(bad["ts"].to_pylist())]
    ids = ["" if kind[i] == 2 else v for i, v in enumerate(bad["account_id"].to_pylist())]
    tokens = bad["input_tokens"].to_numpy()
    tokens = np.where(kind == 0, -np.maximum(tokens, 1), tokens)
    bad = bad.set_column(0, "account_id", pa.array(ids, pa.string()))
    bad = bad.set_column(1, "ts", pa.array(ts, pa.string()))
    return bad.set_column(bad.schema.get_field_index("input_tokens"), "input_tokens",
                          pa.array(tokens, pa.int64()))


def _signup_rows(tables: PopulationTables, keys: AccountKeys, pop: pm.Population,
                 as_text: bool, dirty: bool, rng) -> tuple[pa.Table, np.ndarray, int]:
    """Signup rows, the order to write them in (by created_at), and how many are dirty.

    The order is applied while writing (``write_rows``), so the rows exist only once.
    """
    signups = tables.signups
    if dirty:
        signups = _with_placeholders(signups, pop.cols["scenario"], rng)
    order = np.lexsort((keys.id_numbers, pop.cols["created"]))
    signups = signups.set_column(1, "created_at",
                                 _time_column(signups["created_at"], as_text))
    if not dirty:
        return signups, order, 0
    width = len(keys.account_ids[0].as_py()) - len("acct_")
    bad = _bad_signups(signups, order, width, pop.n, rng)
    both, placed = _insert_rows(signups, bad, rng)
    extra = np.arange(len(signups), len(both))
    return both, np.concatenate([order, extra])[placed], len(bad)


def _usage_day(model: TrafficModel, as_text: bool, d: int) -> pa.Table:
    day = model.day(d)
    return day.set_column(1, "ts", _time_column(day["ts"], as_text))


def generate(out_dir, *, accounts: int = 10_000, seed: int = 0, days: int = 14,
             requests_per_account: float = 20, fmt: str = "parquet",
             dirty_rows: bool = True, workers: int | None = None) -> GeneratedFiles:
    """Write signups, usage and labels for a synthetic population into `out_dir`.

    `workers` processes compute usage days while this one renders and writes; by default
    one per core from PARALLEL_FROM accounts on. The files do not depend on it.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {sorted(FORMATS)}, not {fmt!r}")
    if days < 1:
        raise ValueError("days must be at least 1")
    if workers is None:
        workers = (os.cpu_count() or 1) if accounts >= PARALLEL_FROM else 1
    out = Path(out_dir)  # made by the first file written into it
    ext = FORMATS[fmt]
    as_text = fmt != "parquet" or dirty_rows
    rng = np.random.default_rng([seed, 53])

    pop = build_population(accounts, seed)
    keys = account_keys(pop, seed)
    log.info("population: %d accounts, %d rings", pop.n, int(pop.cols["ring"].max()) + 1)
    model = TrafficModel(pop, keys, seed, days, requests_per_account)
    paths = {kind: out / f"{kind}{ext}" for kind in ("signups", "usage", "labels")}
    # Workers fork here, before the signup columns exist, and need only `model`.
    with ordered_days(partial(_usage_day, model, as_text), days, workers) as usage_days:
        tables = render_population(pop, keys)
        signups, signup_order, dirty_signups = _signup_rows(tables, keys, pop, as_text,
                                                            dirty_rows, rng)
        labels = tables.labels
        del tables  # the raw signup columns; `signups` holds what is written
        with _writing(paths["signups"], fmt) as writer:
            writer.write_rows(signups, signup_order)
        del signups
        with _writing(paths["labels"], fmt) as writer:
            writer.write_rows(labels, np.argsort(keys.id_numbers))
        del labels

        usage_rows = usage_requests = dirty_usage = 0
        with _writing(paths["usage"], fmt) as writer:
            for d, day in enumerate(usage_days):
                usage_rows += len(day)
                usage_requests += int(pc.sum(day["requests"]).as_py() or 0)
                if dirty_rows and len(day):
                    bad = _bad_usage(day, d, rng)
                    dirty_usage += len(bad)
                    writer.write_rows(*_insert_rows(day, bad, rng))
                else:
                    writer.write(day)
                log.info("usage day %d/%d: %d rows", d + 1, days, len(day))

    fraud = int(np.isin(pop.cols["scenario"], pm.FRAUD_KINDS).sum())
    return GeneratedFiles(
        signups=paths["signups"], usage=paths["usage"], labels=paths["labels"],
        accounts=pop.n, fraud_accounts=fraud, rings=int(pop.cols["ring"].max()) + 1,
        signup_rows=len(signup_order), usage_rows=usage_rows + dirty_usage,
        usage_requests=usage_requests, label_rows=pop.n,
        dirty_signup_rows=dirty_signups, dirty_usage_rows=dirty_usage)
