"""The embedded engine: a DuckDB file as the store, networkit (``engines.inprocess``) for the algorithms.

No server: everything runs in-process. DuckDB answers the heavy questions in SQL (``sql``):
the account-pair lists (a self-join over identifier values, bounded by the hub cap),
co-activity similarity and every usage sum, so nothing per account pair or per usage row
is pulled into Python. DuckDB's errors become ``EngineError`` here.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from ringwatch.ingest.usage_sql import REST_ROWS

from ringwatch.settings import SETTINGS, memory_limit

from ..base import Engine, LoadResult
from ..columns import (
    ACCOUNT_COLUMNS,
    COUNT_KEYS,
    IDENTIFIER_COLUMNS,
    RESULT_TABLES,
    USAGE_COLUMNS,
    account_columns,
)
from ..errors import EngineError
from ..policy import ACCOUNT_NUMBERS, LinkPolicy, SimilarityPolicy
from . import files, sql

log = logging.getLogger(__name__)

# Pair rows grouped in one statement: a part of the pairs (``sql.PAIRS``) and what it makes
# fits in memory. Parts are cut between PART_RUNS runs of account numbers.
PAIR_PART_ROWS = 12_000_000
PART_RUNS = 4096


def _connect(path: Path, wait: int) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file; while another process holds it (the dashboard mid-query, another command),
    wait up to ``wait`` seconds, saying so once, instead of failing at once."""
    deadline = time.monotonic() + wait
    waiting = False
    while True:
        try:
            return files.quiet(duckdb.connect(str(path)))
        except duckdb.IOException as exc:
            first = str(exc).splitlines()[0]
            if "lock" not in first.lower():
                raise EngineError(f"cannot open store {path}: {first}") from exc
            if time.monotonic() >= deadline:
                raise EngineError(f"store {path} is in use by another process"
                                  + (f" (waited {wait} s)" if wait else "")
                                  + f"; try again, or wait longer with --wait SECONDS: {first}") from exc
            if not waiting:
                log.warning("store %s is in use by another process; waiting up to %d s", path, wait)
                waiting = True
            time.sleep(0.2)
        except duckdb.Error as exc:
            raise EngineError(f"cannot open store {path}: {exc}") from exc


class EmbeddedEngine(Engine):
    """DuckDB store plus in-process algorithms."""

    name = "embedded"
    scan_files = staticmethod(files.scan_files)
    pair_part_rows = PAIR_PART_ROWS

    def __init__(self, db: str | os.PathLike | None = None):
        super().__init__()
        path = Path(db or SETTINGS["db"].value())
        if path.parent and not path.parent.exists():
            raise EngineError(f"cannot open store {path}: folder {path.parent} does not exist")
        limit = memory_limit()  # a bad value stops here, before the store is opened
        self.con = _connect(path, SETTINGS["lock_wait"].integer())
        self.path = path
        # Bounded so the pair joins spill to disk instead of growing with the data.
        self._run("SET memory_limit = ?", [limit])
        self._run("SET preserve_insertion_order = false")
        self._run(sql.SCHEMA)
        self._links_ready = False

    @classmethod
    def store_files(cls, location) -> tuple[Path, ...]:
        path = Path(location or SETTINGS["db"].value())
        return path, Path(f"{path}.wal")

    def close(self) -> None:
        self.con.close()

    def side_reader(self) -> EmbeddedEngine | None:
        if self._depth:
            return None  # inside a unit of work: another connection would not see its writes
        # A cursor is a connection of its own to the same database: safe beside this one.
        other = object.__new__(type(self))
        Engine.__init__(other)
        other.con, other.path, other._links_ready = files.quiet(self.con.cursor()), self.path, False
        return other

    # -- running SQL -----------------------------------------------------------------------
    def _run(self, query: str, params=None) -> duckdb.DuckDBPyConnection:
        """Run one statement; DuckDB's errors become EngineError with DuckDB's first line."""
        try:
            return self.con.execute(query, params) if params is not None else self.con.execute(query)
        except duckdb.Error as exc:
            raise EngineError(f"store {self.path}: {str(exc).splitlines()[0]}") from exc

    def _with(self, name: str, frame, query: str) -> None:
        """Run a write that reads one frame under ``name``. Unlike a registered frame, which DuckDB
        keeps until the transaction ends (a whole file's rows, for a file loaded in one), it is
        released when the statement is done."""
        try:
            rows = self.con.from_arrow(frame) if isinstance(frame, pa.Table) else self.con.from_df(frame)
            rows.query(name, query)
        except duckdb.Error as exc:
            # A write that fails for good (a full disk) aborts the unit of work, and the relation
            # then reports only the abort: the failure itself is the error it was raised while handling.
            cause = exc.__context__ if isinstance(exc.__context__, duckdb.Error) else exc
            raise EngineError(f"store {self.path}: {str(cause).splitlines()[0]}") from cause

    def _df(self, query: str, params=None, **frames: pd.DataFrame) -> pd.DataFrame:
        """Run a query with DataFrames registered under the given names; the rows as a DataFrame."""
        with self._registered(**frames):
            return self._run(query, params).df()

    @contextmanager
    def _registered(self, **frames: pd.DataFrame) -> Iterator[None]:
        """DataFrames visible to SQL under these names for the block (values travel as data, never as text)."""
        for name, frame in frames.items():
            self.con.register(name, frame)
        try:
            yield
        except BaseException:
            # A write that failed for good (a full disk) aborts DuckDB's unit of work, which then
            # refuses even this; the names are replaced when next registered, and the write's own
            # error is the one to report.
            with suppress(duckdb.Error):
                for name in frames:
                    self.con.unregister(name)
            raise
        for name in frames:
            self.con.unregister(name)

    def _begin(self) -> None:
        self._run("BEGIN TRANSACTION")

    def _commit(self) -> None:
        self._run("COMMIT")

    def _rollback(self) -> None:
        self._run("ROLLBACK")

    def _changed(self) -> None:
        self._links_ready = False

    # -- the record store ------------------------------------------------------------------
    # Table and column names below come only from the fixed lists in ``columns``, never from input.
    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        columns = self._check_table(table)
        if frame.empty:
            return
        self._writes(table)
        names = ", ".join(_q(c) for c in columns)
        self._with("incoming", _arrow(frame[columns]), f"INSERT INTO {table} ({names}) SELECT {names} FROM incoming")

    def _select(self, table, keys=None, columns=None, order=None):
        keyed = [] if keys is None else list(keys.columns)
        picked = columns or self._check_table(table)
        self._check_table(table, [*picked, *(order or []), *keyed])
        names = ", ".join(f"t.{_q(c)}" for c in picked)
        frames = {} if keys is None else {"wanted_keys": keys}
        if keyed == ["account_id"] and table in sql.KEPT_AS_STORED and self._kept_width(table, keys) is not None:
            text = sql.KEPT_ROWS.format(columns=names, kept=sql.KEPT_COPIES[table], wanted="wanted_keys")
        else:
            text = f"SELECT {names} FROM {table} t"
            if keys is not None:
                match = " AND ".join(f"t.{_q(c)} = k.{_q(c)}" for c in keys.columns)
                text += f" SEMI JOIN wanted_keys k ON {match}"
        if order:
            text += " ORDER BY " + ", ".join(f"t.{_q(c)}" for c in order)
        return self._df(text, **frames)

    def _delete(self, table, keys=None) -> int:
        self._check_table(table, [] if keys is None else keys.columns)
        self._writes(table)
        if keys is None:
            return int(self._run(f"DELETE FROM {table}").fetchall()[0][0])
        match = " AND ".join(f"{table}.{_q(c)} = k.{_q(c)}" for c in keys.columns)
        with self._registered(wanted_keys=keys):
            return int(self._run(f"DELETE FROM {table} USING wanted_keys k WHERE {match}").fetchall()[0][0])

    def _write_results(self, tables: dict[str, pd.DataFrame]) -> None:
        for name, frame in tables.items():
            with self._registered(incoming=frame):
                self._run(f"CREATE OR REPLACE TABLE result_{name} AS SELECT * FROM incoming")

    def _read_result(self, name: str) -> pd.DataFrame | None:
        exists = self._run(sql.TABLE_EXISTS, [f"result_{name}"]).fetchall()[0][0]
        return self._run(f"SELECT * FROM result_{name}").df() if exists else None

    def _result_columns(self, name: str, columns: list[str]) -> pd.DataFrame | None:
        # ``name`` is one of RESULT_TABLES; only the table's own column names reach the text.
        types = dict(self._run(sql.TABLE_COLUMNS, [f"result_{name}"]).fetchall())
        if not types or any(c not in types for c in columns):
            return self._read_result(name)  # none stored, or ``results`` names the unknown column
        return self._run(f"SELECT {', '.join(_q(c) for c in columns)} FROM result_{name}").df()

    def _result_rows(self, name: str, keys: pd.DataFrame) -> pd.DataFrame | None:
        # ``name`` is one of RESULT_TABLES (``results`` checked it); key columns must be the table's own.
        table = f"result_{name}"
        types = dict(self._run(sql.TABLE_COLUMNS, [table]).fetchall())
        if not types:
            return None
        unknown = [c for c in keys.columns if c not in types]
        if unknown:
            raise EngineError(f"unknown column {unknown[0]!r} of result table {name}")
        # Text keys meet text columns as they are, so DuckDB can skip row groups by their min/max.
        match = " AND ".join(f"t.{_q(c)} = k.{_q(c)}" if types[c] == "VARCHAR" else f"CAST(t.{_q(c)} AS VARCHAR) = k.{_q(c)}"
                             for c in keys.columns)
        return self._df(f"SELECT t.* FROM {table} t SEMI JOIN wanted_keys k ON {match}",
                        wanted_keys=keys.astype(str).drop_duplicates())

    def _drop_results(self) -> None:
        for name in RESULT_TABLES:
            self._run(f"DROP TABLE IF EXISTS result_{name}")

    def _next_seq(self, ledger: str) -> int:
        return int(self._run(sql.LEDGER_NEXT, [ledger]).fetchall()[0][0])

    # -- loading and counting in SQL -------------------------------------------------------
    def load_accounts(self, signups: pd.DataFrame, identifiers: pd.DataFrame) -> LoadResult:
        incoming, rows = signups[ACCOUNT_COLUMNS], _arrow(signups[ACCOUNT_COLUMNS])
        self._writes("accounts")
        self._writes("identifiers")
        self._with("incoming", rows, sql.NEW_ACCOUNT_IDS)
        new, copies = self._run(sql.NEW_ID_COUNTS).fetchall()[0]
        if copies > 1:
            raise EngineError(f"store {self.path}: one load holds an account id more than once; accounts stay unique")
        self._with("incoming", rows, sql.INSERT_NEW_ACCOUNTS)
        self._with("incoming_ids", _arrow(identifiers[IDENTIFIER_COLUMNS]), sql.INSERT_NEW_IDENTIFIERS)
        self._changed()
        return LoadResult(loaded=int(new), duplicates=len(incoming) - int(new))

    def load_usage_file(self, plan) -> LoadResult:
        fresh = sql.FRESH_REQUEST_IDS if plan.request_ids else ""
        self._writes("usage")
        query = sql.INSERT_CLEAN_USAGE.format(columns=", ".join(map(_q, USAGE_COLUMNS)), clean=plan.clean_sql, fresh=fresh)
        with self._registered(**{REST_ROWS: plan.rest}):
            loaded = int(self._run(query, plan.params).fetchall()[0][0])
        self._changed()
        return LoadResult(loaded=loaded, duplicates=plan.clean_rows - loaded)

    def counts(self) -> dict[str, int]:
        tables = ("accounts", "identifiers", "usage", "labels", "quarantine")
        return {key: int(self._run(f"SELECT count(*) FROM {table}").fetchall()[0][0])
                for key, table in zip(COUNT_KEYS, tables)}

    def identifier_kinds(self) -> list[str]:
        return [r[0] for r in self._run("SELECT DISTINCT kind FROM identifiers ORDER BY 1").fetchall()]

    def value_accounts(self, values: pd.DataFrame, per_value: int = 100, limit: int = 1000) -> pd.DataFrame:
        return self._df(sql.VALUE_ACCOUNTS, [int(per_value), int(limit)],
                        wanted_values=values[["kind", "value"]].astype("str"))

    # -- usage sums in SQL -----------------------------------------------------------------
    def usage_summary(self) -> pd.DataFrame:
        return self._df(sql.USAGE_SUMMARY)

    def prompt_summary(self) -> pd.DataFrame:
        return self._df(sql.PROMPT_SUMMARY)

    def member_usage(self, account_ids: list[str], bucket_minutes: int) -> pd.DataFrame:
        wanted = pd.DataFrame({"account_id": pd.array(list(account_ids), dtype="str")})
        width = self._kept_width("usage", wanted)
        kept = width is not None and bucket_minutes % width == 0
        return self._df(sql.MEMBER_USAGE_KEPT if kept else sql.MEMBER_USAGE, [bucket_minutes], wanted=wanted)

    def _kept_width(self, table: str, wanted: pd.DataFrame) -> int | None:
        """If the kept copy of ``table`` (``sql.KEPT``) holds every one of these accounts: the kept usage buckets'
        width (which only usage questions use); else None."""
        if wanted.empty or not self._run(sql.TABLE_EXISTS, [sql.KEPT_COPIES[table]]).fetchall()[0][0]:
            return None
        wanted = wanted[["account_id"]].drop_duplicates()
        with self._registered(kept_wanted=wanted):
            covered, width = self._run(sql.KEPT_COVERS.format(wanted="kept_wanted")).fetchall()[0]
        return int(width) if covered == len(wanted) else None

    def _writes(self, table: str) -> None:
        """Before a write to ``table``: its kept copy no longer stands for it."""
        if table in sql.KEPT_COPIES:
            self._run(f"DROP TABLE IF EXISTS {sql.KEPT_COPIES[table]}")

    def member_slices(self, slices: list[list[str]], bucket_minutes: int) -> Iterator[tuple[pd.DataFrame, ...]]:
        sizes = [len(ids) for ids in slices]
        wanted = pd.DataFrame({"account_id": pd.array([i for ids in slices for i in ids], dtype="str"),
                               "s": np.repeat(np.arange(len(slices), dtype=np.int32), sizes)})
        wanted["pos"] = np.arange(len(wanted), dtype=np.int32)
        wanted["bucket_minutes"] = np.int64(bucket_minutes)
        self._build_links()
        try:
            self._with("wanted", _arrow(wanted), "CREATE OR REPLACE TABLE member_slice AS SELECT * FROM wanted")
            for name, query in sql.STAGE_MEMBERS.items():
                kind = "TABLE" if name in sql.KEPT else "TEMP TABLE"
                self._run(f"CREATE OR REPLACE {kind} {name} AS {query}", {"bucket": int(bucket_minutes)}
                          if "$bucket" in query else None)
            self.graph_done()  # the value table was the slices' last use of it: its memory goes to them
            for k, size in enumerate(sizes):
                acc, held, degrees, activity = (self._df(query, [k]) for query in sql.SLICE_READS)
                yield acc[account_columns(None)], held, degrees, activity if size else None
                del acc, held, degrees, activity  # before the next slice is read
            with self.transaction():
                self._run(sql.KEEP_STAGED)
        finally:
            self._run(sql.DROP_STAGED)

    def usage_by_group(self, groups: pd.DataFrame, bucket_minutes: int, origin: pd.Timestamp) -> pd.DataFrame:
        grouping = pd.DataFrame({"account_id": groups["account_id"].astype(str).to_numpy(),
                                 "grp": groups["group"].astype(str).to_numpy()}).drop_duplicates("account_id")
        frame = self._df(sql.USAGE_BY_GROUP, [int(bucket_minutes), pd.Timestamp(origin).to_pydatetime()],
                         grouping=grouping)
        frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), None)
        return frame

    # -- graph questions in SQL ------------------------------------------------------------
    def _build_links(self) -> None:
        if not self._links_ready:
            self._run(sql.LINKS)
            self._links_ready = True

    def graph_done(self) -> None:
        # The link and value tables hold a row per account and value (gigabytes at ten million accounts).
        self._run(sql.DROP_LINKS)
        self._links_ready = False

    def identifier_degrees(self, min_accounts: int = 2) -> pd.DataFrame:
        if min_accounts < 2:  # one account's own values are not kept with the shared ones
            return self._df(sql.DEGREES_ALL, [min_accounts])
        self._build_links()
        return self._df(sql.DEGREES, [min_accounts])

    def degree_histogram(self) -> pd.DataFrame:
        self._build_links()
        return self._df(sql.DEGREE_HISTOGRAM)

    def value_degrees(self, values: pd.DataFrame) -> pd.DataFrame:
        self._build_links()
        return self._df(sql.VALUE_DEGREES, wanted_values=values[["kind", "value"]].drop_duplicates())

    def pair_evidence(self, policy: LinkPolicy, keep_pairs: pd.DataFrame | None = None) -> pd.DataFrame:
        parts = [rows for _, _, rows in self.pair_evidence_parts(policy, keep_pairs)]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def pair_evidence_parts(self, policy: LinkPolicy, keep_pairs: pd.DataFrame | None = None):
        self._build_links()
        # Once each: a pair asked for twice must not return its evidence twice.
        keep = (keep_pairs[["a", "b"]].drop_duplicates() if keep_pairs is not None
                else pd.DataFrame({"a": [], "b": []}, dtype="int32"))
        kinds = policy.kind_table()
        codes, families = pd.factorize(kinds["family"], sort=True)
        caps = {"pair_cap": policy.pair_cap, "anchors": policy.anchors}
        with self._registered(kind_weights=kinds.assign(f=codes), keep_pairs=keep):
            self._run(sql.PAIR_VALUES, {"total": policy.total, "hub_cap": policy.hub_cap})
            try:
                width = max(1, -(-int(policy.total) // PART_RUNS))
                counts = self._df(sql.PAIR_ROWS, {**caps, "width": width})
                starts = counts["part"].to_numpy() * width
                for lo, hi in _parts(starts, counts["pairs"].to_numpy(), self.pair_part_rows):
                    found = self._df(sql.PAIRS, {
                        **caps, "min_total": policy.min_total, "keep_score": policy.keep_bar,
                        "grain": sql.PAIR_SCORE_GRAIN, "lo": lo, "hi": hi})
                    # Millions of rows name a handful of families: categories, not a text value per row.
                    family = pd.Categorical.from_codes(found.pop("f").to_numpy(), categories=families.astype(str))
                    found.insert(2, "family", family)
                    yield lo, hi, found
            finally:
                self._run("DROP TABLE IF EXISTS pair_values")

    def node_similarity(self, policy: SimilarityPolicy) -> pd.DataFrame:
        self._build_links()
        return self._df(sql.SIMILARITY, {
            "max_degree": policy.max_template_accounts, "bucket": policy.bucket_minutes,
            "degree_cutoff": policy.degree_cutoff, "cutoff": policy.cutoff, "top_k": policy.top_k,
        })



def _parts(starts: np.ndarray, rows: np.ndarray, most: int) -> Iterator[tuple[int, int]]:
    """Ranges [lo, hi) of account numbers covering them all, each making at most ``most`` pair rows where
    it can: ``rows[i]`` are the rows made by accounts ``starts[i]`` and on, up to the next start."""
    lo, held = 0, 0
    for start, count in zip(starts.tolist(), rows.tolist()):
        if held and held + count > most:
            yield lo, start
            lo, held = start, 0
        held += count
    yield lo, ACCOUNT_NUMBERS


def _arrow(frame: pd.DataFrame) -> pa.Table | pd.DataFrame:
    """The rows to store as an Arrow table, which DuckDB scans about twice as fast as a DataFrame of
    Arrow-backed text; a frame Arrow cannot convert (an object column of mixed types) goes as it is."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame


def _q(column: str) -> str:
    """A column name of ``columns.TABLES`` as a quoted SQL identifier (``row`` and ``column`` are keywords)."""
    return f'"{column}"'
