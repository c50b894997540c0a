"""The engine seam: the few primitives an engine must supply, and everything built once on top of them.

The pipeline (``detection``, ``casework``, ``reports``) is written once against ``Engine``.
An engine subclass supplies:

- a unit of work: ``_begin``, ``_commit``, ``_rollback`` (and ``close``);
- a record store over the tables of ``columns.TABLES``: ``_insert``, ``_select``, ``_delete``;
- a result store: ``_write_results``, ``_read_result``, ``_drop_results``.

Everything else is done here once, on top of those: transactions, loading with its
idempotency rules, ledgers (``ledgers``), result tables, account numbering, the column contracts of
``columns``, and every graph question (identifier degrees, the link rule and co-activity of
``policy``, usage sums) in pandas, plus components and communities in this process
(``inprocess``). An engine overrides any of those with a native version (SQL, Cypher, Graph
Data Science), checked by the engine contract suite against the answers given here. A
capability an engine lacks raises ``NotSupported``.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from . import inprocess, usage
from . import policy as rules
from .columns import (
    ACCOUNT_COLUMNS,
    COUNT_KEYS,
    DEGREE_COLUMNS,
    HOLDER_COLUMNS,
    IDENTIFIER_COLUMNS,
    LABEL_COLUMNS,
    RESULT_TABLES,
    TABLES,
    account_columns,
)
from .errors import NO_RESULTS, EngineError, NotSupported, secondary_to
from .ledgers import Ledgers
from .policy import ACCOUNT_NUMBERS, LinkPolicy, SimilarityPolicy
from .records import LoadResult, keys_frame, matching
from .sources import Sources


class Engine(Ledgers, Sources, ABC):
    """A graph store plus the algorithms the pipeline runs on it (see the module docstring).

    In pair results ``a`` and ``b`` are account numbers: positions in ``accounts()``, which
    is ordered by account id.
    """

    name: str = "engine"
    scan_files = None  # set by an engine that reads input files itself (``ingest.usage_sql``)

    def __init__(self) -> None:
        self._depth = 0

    @classmethod
    def open(cls, location) -> Engine:
        """Open the store at ``location`` (a file path for a file-backed engine; ignored by a server engine)."""
        return cls(location)

    @classmethod
    def store_files(cls, location) -> tuple[Path, ...]:
        """The files holding a store at ``location``; none for an engine whose store lives on a server."""
        return ()

    # -- lifecycle and units of work -------------------------------------------------------
    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release connections and temporary graph projections."""

    def side_reader(self) -> Engine | None:
        """A handle another thread may read committed data through (close it when done), or None."""
        return None

    @abstractmethod
    def _begin(self) -> None:
        """Start a unit of work on the store."""

    @abstractmethod
    def _commit(self) -> None:
        """Make the unit of work permanent."""

    @abstractmethod
    def _rollback(self) -> None:
        """Drop the unit of work."""

    @contextmanager
    def transaction(self) -> Iterator[Engine]:
        """A unit of work: everything written in the block is stored together or not at all; a
        block inside another joins it (a function that needs one can run inside its caller's)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self
        except BaseException as exc:
            self._depth = 0
            with secondary_to(exc):
                self._rollback()
            self._changed()
            raise
        self._depth = 0
        self._commit()

    def _changed(self) -> None:
        """Records changed: an engine drops what it derived from them (account numbers, link tables)."""

    # -- the record store (engines supply these) -------------------------------------------
    @abstractmethod
    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        """Append rows (the table's columns of ``columns.TABLES``, in that order) to a table."""

    @abstractmethod
    def _select(self, table: str, keys: pd.DataFrame | None = None, columns: list[str] | None = None,
                order: list[str] | None = None) -> pd.DataFrame:
        """Rows of a table: all, or those whose ``keys.columns`` values match a row of ``keys``.

        ``columns`` keeps only those columns; ``order`` sorts by those columns (else any order).
        """

    @abstractmethod
    def _delete(self, table: str, keys: pd.DataFrame | None = None) -> int:
        """Delete all rows of a table, or those matching a row of ``keys``; returns how many went."""

    @abstractmethod
    def _write_results(self, tables: dict[str, pd.DataFrame]) -> None:
        """Replace these result tables (inside the caller's unit of work)."""

    @abstractmethod
    def _read_result(self, name: str) -> pd.DataFrame | None:
        """A stored result table, or None when no run stored it."""

    @abstractmethod
    def _drop_results(self) -> None:
        """Delete every stored result table."""

    @staticmethod
    def _check_table(table: str, names=()) -> list[str]:
        """The table's columns; refuses an unknown table, or any of ``names`` that is not one of its columns."""
        if table not in TABLES:
            raise EngineError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        unknown = [name for name in names if name not in TABLES[table]]
        if unknown:
            raise EngineError(f"unknown column {unknown[0]!r} of table {table}")
        return TABLES[table]

    # -- loading ---------------------------------------------------------------------------
    def clear_store(self) -> int:
        """Delete every record and result this engine holds; returns how many records went."""
        with self.transaction():
            total = sum(self._delete(table) for table in TABLES)
            self._drop_results()
        self._changed()
        return int(total)

    def seen_file(self, kind: str, digest: str) -> bool:
        """True when a file with this content digest was already loaded as ``kind``."""
        return len(self._select("loaded_files", keys_frame(kind=[kind], digest=[digest]), ["kind"])) > 0

    def record_file(self, kind: str, digest: str, source: str, rows: int) -> None:
        """Remember that a file was loaded, so a re-run skips it."""
        if not self.seen_file(kind, digest):
            self._insert("loaded_files", pd.DataFrame([{"kind": kind, "digest": digest, "source": str(source),
                                                        "rows": int(rows)}]))

    def load_accounts(self, signups: pd.DataFrame, identifiers: pd.DataFrame) -> LoadResult:
        """Store normalised signups and their identifiers; existing account ids win."""
        incoming = signups[ACCOUNT_COLUMNS]
        wanted = keys_frame(account_id=incoming["account_id"].drop_duplicates())
        stored = set(self._select("accounts", wanted, ["account_id"])["account_id"])
        fresh = incoming[~incoming["account_id"].isin(stored)].drop_duplicates("account_id")
        links = identifiers[IDENTIFIER_COLUMNS]
        self._insert("accounts", fresh)
        self._insert("identifiers", links[links["account_id"].isin(set(fresh["account_id"]))].drop_duplicates())
        self._changed()
        return LoadResult(loaded=len(fresh), duplicates=len(incoming) - len(fresh))

    def load_usage(self, rows: pd.DataFrame) -> LoadResult:
        """Append normalised usage rows; a row whose request_id is stored, or came earlier, is a duplicate."""
        fresh = usage.fresh(rows, lambda ids: self._select("usage", keys_frame(request_id=ids), ["request_id"]))
        self._insert("usage", fresh)
        self._changed()
        return LoadResult(loaded=len(fresh), duplicates=len(rows) - len(fresh))

    def load_usage_file(self, plan) -> LoadResult:
        """Store a usage file's clean rows (``plan.clean_sql``, run by an engine with ``scan_files``);
        repeated request ids go as in ``load_usage``. Other engines load every row by ``load_usage``."""
        raise self.unsupported("loading usage files in SQL")

    def load_labels(self, labels: pd.DataFrame) -> LoadResult:
        """Store labels; a later label for the same account replaces the earlier one."""
        frame = labels[LABEL_COLUMNS]
        last = frame.drop_duplicates("account_id", keep="last")
        self._delete("labels", keys_frame(account_id=last["account_id"]))
        self._insert("labels", last)
        return LoadResult(loaded=len(frame))

    def record_quarantine(self, rows: pd.DataFrame) -> None:
        """Keep quarantined rows (source, row, column, value, reason) with the store."""
        if rows.empty:
            return
        frame = rows[TABLES["quarantine"]].copy()
        frame["value"] = [None if v is None or (not isinstance(v, (list, dict, str)) and bool(pd.isna(v))) else str(v)
                          for v in frame["value"]]
        self._insert("quarantine", frame)

    # -- reading ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Row counts: accounts, identifiers, usage_rows, labels, quarantined."""
        tables = ("accounts", "identifiers", "usage", "labels", "quarantine")
        return {key: len(self._select(table, columns=TABLES[table][:1])) for key, table in zip(COUNT_KEYS, tables)}

    def accounts(self, account_ids: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """Accounts with their normalised signup columns, in id order: all, or only these ids; ``columns`` keeps
        only these columns (``account_id`` always comes first)."""
        picked = account_columns(columns)
        keys = None if account_ids is None else keys_frame(account_id=list(dict.fromkeys(map(str, account_ids))))
        frame = self._select("accounts", keys, picked, order=["account_id"])
        return frame[picked].reset_index(drop=True)

    def labels(self) -> pd.DataFrame:
        """Stored labels: account_id, label, ring_id, attributes."""
        return self._select("labels", order=["account_id"])[LABEL_COLUMNS].reset_index(drop=True)

    def account_identifiers(self, account_ids: list[str]) -> pd.DataFrame:
        """Identifiers of these accounts: account_id, kind, value (signup identifiers only)."""
        keys = keys_frame(account_id=sorted(set(map(str, account_ids))))
        frame = self._select("identifiers", keys, order=IDENTIFIER_COLUMNS)
        return frame[IDENTIFIER_COLUMNS].reset_index(drop=True)

    def value_accounts(self, values: pd.DataFrame, per_value: int = 100, limit: int = 1000) -> pd.DataFrame:
        """Accounts holding the given signup identifier values: account_id, kind, value, holders.

        ``values`` has columns ``kind, value``. ``holders`` is how many accounts hold the value in all;
        at most ``per_value`` of them (lowest account ids) per value, ``limit`` rows in all, by kind, value, id.
        """
        keys = values[["kind", "value"]].astype(str).drop_duplicates()
        held = self._select("identifiers", keys, order=["kind", "value", "account_id"])
        held = held.assign(holders=held.groupby(["kind", "value"])["account_id"].transform("size"))
        held = held[held.groupby(["kind", "value"]).cumcount() < int(per_value)]
        return held[HOLDER_COLUMNS].head(int(limit)).reset_index(drop=True)

    def identifier_kinds(self) -> list[str]:
        """The identifier kinds stored (built-in and user-declared ``custom:<column>``)."""
        return sorted(self._select("identifiers", columns=["kind"])["kind"].unique().tolist())

    # -- usage sums ------------------------------------------------------------------------
    def usage_rows(self, account_ids=None) -> pd.DataFrame:
        """Stored usage rows (``columns.USAGE_COLUMNS``) of these accounts, or of all: ts, ip, model, template, tokens."""
        return self._select("usage", None if account_ids is None else keys_frame(account_id=sorted(set(map(str, account_ids)))))

    def usage_summary(self) -> pd.DataFrame:
        """Per account: requests, input_tokens, output_tokens, first_ts, last_ts, active_days, prompts."""
        return usage.per_account(self.usage_rows())

    def prompt_summary(self) -> pd.DataFrame:
        """Per prompt fingerprint: accounts, requests."""
        return usage.per_prompt(self.usage_rows())

    def member_usage(self, account_ids: list[str], bucket_minutes: int) -> pd.DataFrame:
        """Usage of these accounts per bucket: account_id, bucket, prompt_fingerprint, requests, input_tokens, output_tokens."""
        return usage.per_bucket(self.usage_rows(account_ids), bucket_minutes)

    def member_slices(self, slices: list[list[str]], bucket_minutes: int) -> Iterator[tuple[pd.DataFrame, ...]]:
        """What detection reads of its clustered accounts, one list of ids (a slice) at a time, in turn: their
        ``accounts``, ``account_identifiers``, those values' ``value_degrees`` and ``member_usage`` (None for no
        ids). An engine may read the store once for every slice; it keeps only what is left to yield, and may let go
        of what the graph questions built (``graph_done``): detection asks this after its last. An engine may also
        keep what it read, to answer later questions about these accounts (``accounts``, ``account_identifiers``,
        ``member_usage``) from it for as long as the tables it was read from are unchanged."""
        for ids in slices:
            held = self.account_identifiers(ids)
            yield (self.accounts(ids), held, self.value_degrees(held[["kind", "value"]]),
                   self.member_usage(ids, bucket_minutes) if ids else None)

    def usage_by_group(self, groups: pd.DataFrame, bucket_minutes: int, origin: pd.Timestamp) -> pd.DataFrame:
        """Usage summed per group and time bucket: group, bucket, requests, output_tokens, last_ts.

        ``groups`` (account_id, group; an account listed twice counts in its first group); all
        other usage is summed under group None. Buckets are ``bucket_minutes`` wide from
        ``origin`` (naive UTC); ``last_ts`` is the bucket's latest usage. Sorted by group (None
        last), then bucket. An engine that can sums in the store, never in memory per account.
        """
        return usage.per_group(self.usage_rows(), groups, bucket_minutes, origin)

    # -- graph questions -------------------------------------------------------------------
    def account_numbers(self) -> pd.Series:
        """Each account's number (its position in account-id order), indexed by account id."""
        ids = self._select("accounts", columns=["account_id"], order=["account_id"])["account_id"]
        return pd.Series(np.arange(len(ids), dtype=np.int64), index=ids.to_numpy())

    def _links(self) -> pd.DataFrame:
        """Every account-identifier link the graph uses: idx, kind, value (signup identifiers, request IPs, prompts)."""
        return rules.links(self._select("identifiers"), self.usage_rows(), self.account_numbers())

    def identifier_degrees(self, min_accounts: int = 2) -> pd.DataFrame:
        """Accounts per identifier value (kind, value, accounts), for values with at least ``min_accounts``."""
        deg = rules.degrees(self._links())
        deg = deg[deg["accounts"] >= min_accounts]
        return deg.sort_values(["accounts", "kind", "value"], ascending=[False, True, True]).reset_index(drop=True)

    def degree_histogram(self) -> pd.DataFrame:
        """The store's sharing frequencies, one row per kind and degree: kind, accounts (degree), values."""
        return rules.degree_histogram(self._links())

    def value_degrees(self, values: pd.DataFrame) -> pd.DataFrame:
        """Accounts behind each given (kind, value); 0 for a value nobody holds."""
        wanted = values[["kind", "value"]].drop_duplicates()
        out = wanted.merge(rules.degrees(self._links()), on=["kind", "value"], how="left").fillna({"accounts": 0})
        return out.astype({"accounts": np.int64})[DEGREE_COLUMNS].reset_index(drop=True)

    def pair_evidence(self, policy: LinkPolicy, keep_pairs: pd.DataFrame | None = None) -> pd.DataFrame:
        """Evidence per account pair and family from shared identifier values (``policy.LinkPolicy``): a, b, family,
        score, shared for pairs ``a < b`` the policy keeps, plus any pair in ``keep_pairs`` (a, b) that shares evidence."""
        return rules.pair_evidence(self._links(), policy, keep_pairs)

    def pair_evidence_parts(self, policy: LinkPolicy, keep_pairs: pd.DataFrame | None = None) -> Iterator[tuple]:
        """``pair_evidence`` in parts, by ascending ranges of ``a``: (lo, hi, the rows with lo <= a < hi). Here one."""
        yield 0, ACCOUNT_NUMBERS, self.pair_evidence(policy, keep_pairs)

    def node_similarity(self, policy: SimilarityPolicy) -> pd.DataFrame:
        """Weighted Jaccard over (prompt fingerprint, time bucket) activity (``policy.SimilarityPolicy``): a, b, similarity, common."""
        use = self.usage_rows()
        use = use.assign(idx=use["account_id"].map(self.account_numbers())).dropna(subset=["idx"])
        return rules.node_similarity(use.astype({"idx": np.int64}), policy)

    def graph_done(self) -> None:
        """Let go of what the graph questions built for a run, which has asked its last (here, nothing)."""

    def components(self, edges: pd.DataFrame) -> pd.DataFrame:
        """Weakly connected components of (a, b, weight) edges: account_id, group (the smallest member)."""
        return inprocess.components(edges)

    def communities(self, edges: pd.DataFrame, *, seed: int, resolution: float) -> tuple[pd.DataFrame, float]:
        """Seeded community detection on (a, b, weight) edges: (account_id, group) and the modularity."""
        return inprocess.communities(edges, seed, resolution)

    def communities_of(self, graphs: Iterable[pd.DataFrame], *, seed: int,
                       resolution: float) -> Iterator[tuple[pd.DataFrame, float]]:
        """``communities`` of each of several graphs with no account in common (the large components), in their
        order. Here one after another, each graph taken when its turn comes; an engine with workers may take them
        all and find them side by side."""
        for edges in graphs:
            yield self.communities(edges, seed=seed, resolution=resolution)

    # -- results ---------------------------------------------------------------------------
    def save_results(self, tables: dict[str, pd.DataFrame]) -> None:
        """Replace the stored detection results with these tables, all together, under a new revision."""
        unknown = set(tables) - set(RESULT_TABLES)
        if unknown:
            raise EngineError(f"unknown result tables: {sorted(unknown)}")
        with self.transaction():
            self._write_results({**tables, "revision": pd.DataFrame({"revision": [uuid.uuid4().hex]})})

    def results(self, name: str, keys: pd.DataFrame | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """A stored result table (``columns.RESULT_TABLES``): all of it, or only the rows whose ``keys.columns``
        values match a row of ``keys`` (compared as text); ``columns`` keeps only these columns, and a whole table
        is then read for them only where the engine can (the rings' explanations are most of their size)."""
        if name not in RESULT_TABLES:
            raise EngineError(f"unknown result table {name!r}")
        if keys is None:
            frame = self._read_result(name) if columns is None else self._result_columns(name, list(columns))
        else:
            frame = self._result_rows(name, keys)
        if frame is None:
            raise EngineError(NO_RESULTS)
        if columns is None:
            return frame
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise EngineError(f"unknown column {unknown[0]!r} of result table {name}")
        return frame[list(columns)]

    def _result_columns(self, name: str, columns: list[str]) -> pd.DataFrame | None:
        """Some columns of a whole stored result table (None when no run stored it); the caller checks their names."""
        return self._read_result(name)

    def _result_rows(self, name: str, keys: pd.DataFrame) -> pd.DataFrame | None:
        """The rows of a stored result table that match ``keys`` (None when no run stored it)."""
        frame = self._read_result(name)
        unknown = [] if frame is None else [c for c in keys.columns if c not in frame.columns]
        if unknown:
            raise EngineError(f"unknown column {unknown[0]!r} of result table {name}")
        return None if frame is None else matching(frame, keys)

    def results_version(self) -> str | None:
        """What identifies the stored results: renewed by every save (a detection run, a false-positive decision
        applied at once); None before the first run. A reader caches what it derives from results on it."""
        revision = self._read_result("revision")
        if revision is not None and len(revision):
            return str(revision["revision"].iloc[0])
        runs = self._read_result("runs")  # saved before revisions were kept: the run's finishing time
        return None if runs is None or runs.empty else str(runs["finished_at"].max())

    def unsupported(self, capability: str) -> NotSupported:
        """The error for a capability this engine lacks."""
        return NotSupported(f"the {self.name} engine does not support {capability}")
