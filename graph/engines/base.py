"""The engine interface: the few primitives the detection pipeline needs from a graph store.

The pipeline (`detect.py`, `scoring.py`, `explain.py`) is written once against this class.
An engine stores accounts, their identifiers and usage, and answers a handful of graph
questions with DataFrames whose columns are fixed and documented here. A capability an
engine lacks raises `NotSupported`; callers never branch on engine names.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass

import pandas as pd


class NotSupported(Exception):
    """The engine does not offer this capability."""


class EngineError(Exception):
    """The engine cannot do what was asked (unreachable, misconfigured, no data)."""


@dataclass(frozen=True)
class LoadResult:
    """What a load did: rows newly stored, rows already present (re-runs), conflicting rows."""

    loaded: int
    duplicates: int = 0


# Append-only ledgers: analysts' decisions, ban batches, their approvals, exports, unbans,
# and the hash-chained audit log that records all of them (see audit.py); and every
# detection run's ring lineage events (lineage.py).
LEDGERS = ("decisions", "batches", "approvals", "exports", "unbans", "audit", "lineage")


def ledger_bodies(frame: pd.DataFrame) -> list[str]:
    """Ledger rows as canonical JSON text (sorted keys), the form every engine stores."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [json.dumps(row, sort_keys=True, separators=(",", ":"), default=str) for row in rows]


def ledger_frame(seqs: list[int], bodies: list[str]) -> pd.DataFrame:
    """Stored ledger rows back as a DataFrame: ``seq`` first, then the row's own columns."""
    rows = [{"seq": int(s), **json.loads(b)} for s, b in zip(seqs, bodies)]
    # Object columns keep each value as stored (an int stays an int next to a missing value).
    return pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame({"seq": pd.Series(dtype="int64")})


class Engine(ABC):
    """A graph store plus the algorithms the pipeline runs on it.

    Column contracts (every engine returns exactly these):

    - ``identifier_degrees()``: ``kind, value, accounts`` for every identifier value linked
      to at least two accounts (signup identifiers plus ``request_ip`` and ``prompt`` from
      usage).
    - ``pair_evidence(...)``: ``a, b, family, score, shared`` — evidence between accounts
      ``a < b`` from the identifier values they share, summed per evidence family.
    - ``value_degrees(values)``: ``kind, value, accounts`` for the given values.
    - ``node_similarity(...)``: ``a, b, similarity, common`` — weighted Jaccard between
      accounts over (prompt fingerprint, time bucket) activity, GDS Node Similarity
      semantics (see the method).
    - ``components(edges)`` / ``communities(edges, ...)``: ``account_id, group`` for the
      accounts in ``edges`` (``a, b, weight``); ``group`` is the smallest member.

    In pair results ``a`` and ``b`` are account numbers: positions in ``accounts()``,
    which is ordered by account id.
    """

    name: str = "engine"

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release connections and temporary graph projections."""

    # -- loading ---------------------------------------------------------------------------
    @abstractmethod
    def begin(self) -> None:
        """Start a unit of work: loads until ``commit`` are stored all together or not at all."""

    @abstractmethod
    def commit(self) -> None:
        """Make the loads since ``begin`` permanent."""

    @abstractmethod
    def rollback(self) -> None:
        """Drop the loads since ``begin``."""

    @abstractmethod
    def clear_store(self) -> int:
        """Delete every record and result this engine holds; returns how many records went."""

    @abstractmethod
    def seen_file(self, kind: str, digest: str) -> bool:
        """True when a file with this content digest was already loaded as ``kind``."""

    @abstractmethod
    def record_file(self, kind: str, digest: str, source: str, rows: int) -> None:
        """Remember that a file was loaded, so a re-run skips it."""

    @abstractmethod
    def load_accounts(self, signups: pd.DataFrame, identifiers: pd.DataFrame) -> LoadResult:
        """Store normalised signups and their identifiers; existing account ids win."""

    @abstractmethod
    def load_usage(self, usage: pd.DataFrame) -> LoadResult:
        """Append normalised usage rows."""

    @abstractmethod
    def load_labels(self, labels: pd.DataFrame) -> LoadResult:
        """Store labels; a later label for the same account replaces the earlier one."""

    @abstractmethod
    def record_quarantine(self, rows: pd.DataFrame) -> None:
        """Keep quarantined rows (source, row, column, value, reason) with the store."""

    # -- reading ---------------------------------------------------------------------------
    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Row counts: accounts, identifiers, usage_rows, labels, quarantined."""

    @abstractmethod
    def accounts(self, account_ids: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """Accounts with their normalised signup columns, in id order: all, or only these ids.

        ``columns`` keeps only these columns (``account_id`` always comes first); an engine may
        read only those from its store.
        """

    @abstractmethod
    def labels(self) -> pd.DataFrame:
        """Stored labels: account_id, label, ring_id, attributes."""

    @abstractmethod
    def usage_summary(self) -> pd.DataFrame:
        """Per account: requests, input_tokens, output_tokens, first_ts, last_ts, active_days, prompts."""

    @abstractmethod
    def prompt_summary(self) -> pd.DataFrame:
        """Per prompt fingerprint: accounts, requests."""

    @abstractmethod
    def member_usage(self, account_ids: list[str], bucket_minutes: int) -> pd.DataFrame:
        """Usage of these accounts per bucket: account_id, bucket, prompt_fingerprint, requests, input_tokens, output_tokens."""

    @abstractmethod
    def usage_by_group(self, groups: pd.DataFrame, bucket_minutes: int, origin: pd.Timestamp) -> pd.DataFrame:
        """Usage summed per group and time bucket: group, bucket, requests, output_tokens, last_ts.

        ``groups`` (account_id, group) puts accounts in groups (an account listed twice
        counts in its first group); the usage of every other account is summed under group
        None. Buckets are ``bucket_minutes`` wide, counted from ``origin`` (naive UTC);
        ``last_ts`` is the latest usage time in the bucket. Rows are sorted by group (None
        last), then bucket. The aggregation runs in the store, so a review of a large store
        never pulls per-account usage into memory.
        """

    @abstractmethod
    def account_identifiers(self, account_ids: list[str]) -> pd.DataFrame:
        """Identifiers of these accounts: account_id, kind, value (signup identifiers only)."""

    # -- graph algorithms ------------------------------------------------------------------
    @abstractmethod
    def identifier_degrees(self, min_accounts: int = 2) -> pd.DataFrame:
        """Accounts per identifier value (kind, value, accounts), for values with at least ``min_accounts``."""

    @abstractmethod
    def identifier_kinds(self) -> list[str]:
        """The identifier kinds stored (built-in and user-declared ``custom:<column>``)."""

    @abstractmethod
    def value_degrees(self, values: pd.DataFrame) -> pd.DataFrame:
        """Accounts behind each given (kind, value)."""

    @abstractmethod
    def pair_evidence(
        self,
        *,
        kinds: pd.DataFrame,
        hub_cap: int,
        pair_cap: int,
        anchors: int,
        total_accounts: int,
        min_total: float,
        alone_family: str,
        alone_score: float,
        keep_pairs: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Evidence per account pair and family from shared identifier values.

        Each value shared by ``n`` accounts (2 <= n <= ``hub_cap``) adds
        ``weight(kind) * max(0, ln(N/n) / ln(N/2))`` to its family (``kinds``: kind, family,
        weight). Values with ``n <= pair_cap`` link all their pairs; larger ones link each
        account to the value's first ``anchors`` accounts (by account number). Only pairs
        whose family scores, each capped at 1, add up to ``min_total``, whose
        ``alone_family`` score reaches ``alone_score``, or that are listed in ``keep_pairs``
        (a, b) are returned.
        """

    @abstractmethod
    def node_similarity(
        self,
        *,
        bucket_minutes: int,
        max_degree: int,
        top_k: int,
        similarity_cutoff: float,
        degree_cutoff: int,
    ) -> pd.DataFrame:
        """Weighted Jaccard over (prompt fingerprint, time bucket) activity nodes.

        Semantics follow Neo4j GDS Node Similarity: accounts with fewer than
        ``degree_cutoff`` activity nodes are skipped; a pair is kept when its similarity is
        at least ``similarity_cutoff`` and it is among the ``top_k`` most similar for either
        account (ties broken by account id). Fingerprints used by more than ``max_degree``
        accounts are popular templates and are not projected.
        """

    @abstractmethod
    def components(self, edges: pd.DataFrame) -> pd.DataFrame:
        """Weakly connected components of the graph given by ``edges`` (a, b, weight)."""

    @abstractmethod
    def communities(self, edges: pd.DataFrame, *, seed: int, resolution: float) -> tuple[pd.DataFrame, float]:
        """Seeded community detection (Leiden/Louvain) on ``edges``; returns (account_id, group) and modularity."""

    # -- results ---------------------------------------------------------------------------
    @abstractmethod
    def save_results(self, tables: dict[str, pd.DataFrame]) -> None:
        """Replace the stored detection results with these tables."""

    @abstractmethod
    def results(self, name: str) -> pd.DataFrame:
        """A stored result table (accounts, rings, ring_evidence, suppressed_hubs, runs, lineage)."""

    # -- ledgers ---------------------------------------------------------------------------
    @abstractmethod
    def append_records(self, ledger: str, frame: pd.DataFrame) -> list[int]:
        """Append rows to a ledger (one of ``LEDGERS``); returns the sequence numbers given to them.

        A ledger is append-only: rows are never updated or deleted (only ``clear_store``
        wipes them with the rest of the store). Each row is stored as canonical JSON text
        (``ledger_bodies``) under ``(ledger, seq)``, ``seq`` counting 0, 1, 2, ... per ledger,
        so values should be JSON types (timestamps as ISO text).
        """

    @abstractmethod
    def records(self, ledger: str) -> pd.DataFrame:
        """A ledger's rows in append order: ``seq`` plus the columns the rows were appended with."""

    def _check_ledger(self, ledger: str) -> None:
        if ledger not in LEDGERS:
            raise EngineError(f"unknown ledger {ledger!r}; ledgers: {', '.join(LEDGERS)}")

    @abstractmethod
    def value_accounts(self, values: pd.DataFrame, per_value: int = 100, limit: int = 1000) -> pd.DataFrame:
        """Accounts holding the given signup identifier values: account_id, kind, value, holders.

        ``values`` has columns ``kind, value``. ``holders`` is how many accounts hold the
        value in all; at most ``per_value`` of them (lowest account ids) are returned per
        value and at most ``limit`` rows in all, ordered by kind, value and account id.
        """

    @abstractmethod
    def neighbour_edges(self, account_ids: list[str], limit: int) -> pd.DataFrame:
        """One hop: account_id, kind, value of every account sharing a signup identifier with these, at most ``limit`` rows."""

    def neighbourhood(self, account_id: str, hops: int = 1, limit: int = 500) -> pd.DataFrame:
        """Edges account–identifier around an account, ``hops`` account hops out, at most ``limit`` rows."""
        frontier, seen, frames = {account_id}, set(), []
        for _ in range(max(1, hops)):
            edges = self.neighbour_edges(sorted(frontier), limit)
            frames.append(edges)
            seen |= frontier
            frontier = set(edges["account_id"]) - seen
            if not frontier:
                break
        return pd.concat(frames, ignore_index=True).drop_duplicates().head(limit).reset_index(drop=True)


ENGINES = ("embedded", "neo4j")


def open_engine(name: str | None = None, db: str | os.PathLike | None = None) -> Engine:
    """Open the named engine (default: embedded) on the given store.

    ``db`` is the store file of the embedded engine; the neo4j engine ignores it and uses
    the server and database named by NEO4J_URI / NEO4J_DATABASE.
    """
    name = (name or "embedded").lower()
    if name == "embedded":
        from .embedded.engine import EmbeddedEngine

        return EmbeddedEngine(db)
    if name == "neo4j":
        from .neo4j.engine import Neo4jEngine

        return Neo4jEngine()
    raise EngineError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
