"""The Neo4j engine: a shared Neo4j database as the store, Graph Data Science (or this process) for the algorithms.

The same questions as the embedded engine (its SQL and ``engines.policy`` define the
semantics), in Cypher (``queries``) and GDS (``gds``): pair evidence and lookups run as
parameterised Cypher; connected components (WCC), community detection (Leiden, seeded) and
Node Similarity run in GDS on projections built from DataFrames. On a server without GDS
(``RINGWATCH_NEO4J_ALGORITHMS``: auto falls back, local chooses it) the same projections go
to ``local.LocalRunner``, the embedded engine's algorithms in this process. Writes are
batched ``UNWIND $rows ... MERGE`` over uniqueness constraints, so a re-run is idempotent.

The store is the database NEO4J_DATABASE names, or the server's default; a store location
(``--db``) is ignored.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from .. import usage as usage_rules
from ..base import Engine, LoadResult, keys_frame
from ..columns import (
    ACCOUNT_COLUMNS,
    COUNT_KEYS,
    IDENTIFIER_COLUMNS,
    LABEL_COLUMNS,
    RESULT_TABLES,
    USAGE_COLUMNS,
)
from ..errors import EngineError
from ..policy import BUCKET_ORIGIN, LinkPolicy, SimilarityPolicy
from . import gds as algorithms
from . import queries as q
from .connection import (
    CypherRunner,
    GdsMissing,
    GdsRunner,
    Neo4jSettings,
    check_gds,
    connect,
)
from .gds import PROJECTION_PREFIX, modularity  # noqa: F401  (modularity: part of this engine's API)
from .local import LocalRunner

log = logging.getLogger(__name__)

EPOCH = pd.Timestamp("1970-01-01")
ORIGIN_SECONDS = int((BUCKET_ORIGIN - EPOCH).total_seconds())
RESULT_CHUNK_ROWS = 50_000
_SAID_LOCAL = False  # the fallback to local algorithms is announced once per process


class Neo4jEngine(Engine):
    """Neo4j store plus Graph Data Science algorithms, on a server."""

    name = "neo4j"

    def __init__(self, settings: Neo4jSettings | None = None, *, runner=None, gds=None):
        super().__init__()
        self.settings = settings or Neo4jSettings.from_env()
        if runner is None:
            driver = connect(self.settings)
            runner = CypherRunner(driver, self.settings.database)
            try:
                gds = gds or self._algorithms(runner, driver)
            except EngineError:
                runner.close()
                raise
        self.cypher = runner
        self.gds = gds
        self._numbered = False
        for statement in q.SCHEMA:
            self.cypher.run(statement)
        self._sweep_projections()

    def _algorithms(self, runner: CypherRunner, driver):
        """GDS on the server, or the embedded engine's algorithms in this process (``algorithms`` setting)."""
        mode = self.settings.algorithms
        if mode == "local":
            return LocalRunner()
        try:
            check_gds(runner, self.settings.uri)
        except GdsMissing as exc:
            if mode == "gds":
                raise
            global _SAID_LOCAL
            if not _SAID_LOCAL:
                log.warning("%s: running connected components, community detection and similarity in this "
                            "process instead (RINGWATCH_NEO4J_ALGORITHMS=local says so explicitly)",
                            str(exc).split(";")[0])
                _SAID_LOCAL = True
            return LocalRunner()
        return GdsRunner(driver, self.settings.database)

    @classmethod
    def open(cls, location) -> Neo4jEngine:
        return cls()

    def close(self) -> None:
        try:
            if self.gds is not None:
                self.gds.close()
        finally:
            self.cypher.close()

    def _sweep_projections(self) -> None:
        rows = self.cypher.run(q.SWEEP_PROJECTIONS, {"prefix": PROJECTION_PREFIX, "minutes": self.settings.stale_minutes})
        if rows:
            log.info("dropped %d stale graph projections", len(rows))

    # -- units of work and the record store ------------------------------------------------
    def _begin(self) -> None:
        self.cypher.begin()

    def _commit(self) -> None:
        self.cypher.commit()

    def _rollback(self) -> None:
        self.cypher.rollback()

    def _changed(self) -> None:
        self._numbered = False

    def _write(self, query: str, rows: list, what: str, key: str = "rows") -> None:
        """Send rows in batches of the configured size, with a progress bar on a terminal."""
        size = self.settings.batch_size
        batches = range(0, len(rows), size)
        for start in tqdm(batches, desc=f"neo4j {what}", unit="batch", disable=None if len(batches) > 1 else True):
            self.cypher.run(query, {key: rows[start:start + size]})

    def _read(self, query: str, key: str, values: list, **params) -> list[dict]:
        """Run a read query over ``values`` in batches of the configured size; all rows."""
        rows, size = [], self.settings.batch_size
        for start in range(0, len(values), size):
            rows += self.cypher.run(query, {key: values[start:start + size], **params}, read_only=True)
        return rows

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        self._check_table(table)
        if frame.empty:
            return
        if table == "quarantine":
            self._write(q.CREATE_QUARANTINE, _records(frame), "quarantine")
        elif table == "loaded_files":
            for row in _records(frame):
                self.cypher.run(q.RECORD_FILE, row)
        elif table == "ledger":
            for ledger, rows in frame.groupby("ledger", sort=False):
                self.cypher.run(q.APPEND_LEDGER, {"ledger": ledger, "rows": _records(rows[["seq", "body"]])})
        else:
            raise self.unsupported(f"inserting into {table} other than through its load method")

    def _select(self, table, keys=None, columns=None, order=None):
        self._check_table(table)
        by = () if keys is None else tuple(keys.columns)
        if (table, by) == ("accounts", ()):
            frame = self._account_frame(self.cypher.run(q.ACCOUNTS, read_only=True))
        elif (table, by) == ("accounts", ("account_id",)):
            ids = list(dict.fromkeys(keys["account_id"]))  # an id asked for twice is one account
            frame = self._account_frame(self._read(q.ACCOUNTS_BY_ID, "ids", ids))
        elif (table, by) == ("identifiers", ("account_id",)):
            ids = sorted(set(keys["account_id"]))
            frame = _frame(self._read(q.ACCOUNT_IDENTIFIERS, "account_ids", ids), IDENTIFIER_COLUMNS)
        elif (table, by) == ("labels", ()):
            frame = _frame(self.cypher.run(q.LABELS_ALL, read_only=True), LABEL_COLUMNS)
        elif (table, by) == ("usage", ("account_id",)):
            rows = self._read(q.USAGE_ROWS, "account_ids", sorted(set(keys["account_id"])))
            frame = pd.DataFrame([r["usage"] for r in rows]).reindex(columns=USAGE_COLUMNS)
            frame["ts"] = pd.to_datetime(frame["ts"])
        elif (table, by) == ("usage", ("request_id",)):
            frame = _frame(self._read(q.STORED_REQUEST_IDS, "ids", keys["request_id"].tolist()), ["request_id"])
        elif (table, by) == ("loaded_files", ("kind", "digest")):
            frame = _frame(self._read(q.LOADED_FILES, "files", _records(keys)), ["kind", "digest", "source", "rows"])
        elif (table, by) == ("ledger", ("ledger",)):
            frame = pd.concat([_frame(self.cypher.run(q.LEDGER_ENTRIES, {"ledger": name}, read_only=True),
                                      ["seq", "body"]).assign(ledger=name) for name in keys["ledger"]])
        else:
            raise self.unsupported(f"reading {table}" + (f" by {', '.join(by)}" if by else ""))
        if order:
            frame = frame.sort_values(order, kind="stable")
        return frame[columns or list(frame.columns)].reset_index(drop=True)

    def _account_frame(self, rows: list[dict]) -> pd.DataFrame:
        frame = pd.DataFrame([r["account"] for r in rows]).reindex(columns=ACCOUNT_COLUMNS)
        frame["created_at"] = pd.to_datetime(frame["created_at"])
        return frame

    def _delete(self, table, keys=None) -> int:
        raise self.unsupported(f"deleting from {table} (clear_store deletes everything)")

    def _next_seq(self, ledger: str) -> int:
        return int(self.cypher.run(q.LEDGER_NEXT_SEQ, {"ledger": ledger})[0]["next"])

    def clear_store(self) -> int:
        """Delete every ringwatch node in the database (tests and fresh demos); returns how many."""
        total = 0
        while True:
            deleted = self.cypher.run(q.CLEAR_STORE, {"batch": self.settings.batch_size})[0]["deleted"]
            total += deleted
            if deleted == 0:
                break
        self._changed()
        return total

    def seen_file(self, kind: str, digest: str) -> bool:
        rows = self.cypher.run(q.SEEN_FILE, {"kind": kind, "digest": digest}, read_only=True)
        return bool(rows and rows[0]["n"])

    # -- loading ---------------------------------------------------------------------------
    def load_accounts(self, signups: pd.DataFrame, identifiers: pd.DataFrame) -> LoadResult:
        incoming = signups[ACCOUNT_COLUMNS]
        ids = incoming["account_id"].drop_duplicates().astype(str).tolist()
        new = [r["id"] for r in self._read(q.NEW_ACCOUNT_IDS, "ids", ids)]
        fresh = set(new)
        accounts = incoming[incoming["account_id"].isin(fresh)].drop_duplicates("account_id")
        self._write(q.MERGE_ACCOUNTS, _records(accounts), "accounts")
        links = identifiers[IDENTIFIER_COLUMNS]
        links = links[links["account_id"].isin(fresh)].drop_duplicates()
        self._write(q.MERGE_IDENTIFIERS, _records(links), "identifiers")
        self._write(q.LINK_EARLIER_USAGE, new, "usage links", key="ids")
        self._changed()
        return LoadResult(loaded=len(new), duplicates=len(incoming) - len(new))

    def load_usage(self, usage: pd.DataFrame) -> LoadResult:
        frame = usage_rules.fresh(usage, lambda ids: self._select("usage", keys_frame(request_id=ids), ["request_id"]))
        frame = frame.copy()
        ts = pd.to_datetime(frame["ts"])
        if ts.dt.tz is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        frame["ts"] = ts
        # Whole seconds since 1970, so buckets are integer arithmetic in Cypher.
        frame["epoch"] = (ts - EPOCH) // pd.Timedelta(seconds=1)
        self._write(q.CREATE_USAGE, _records(frame), "usage")
        links = pd.concat([
            pd.DataFrame({"account_id": frame["account_id"], "kind": "request_ip", "value": frame["ip"]}),
            pd.DataFrame({"account_id": frame["account_id"], "kind": "prompt", "value": frame["prompt_fingerprint"]}),
        ]).dropna(subset=["value"]).drop_duplicates()
        self._write(q.MERGE_USAGE_LINKS, _records(links), "usage links")
        self._changed()
        return LoadResult(loaded=len(frame), duplicates=len(usage) - len(frame))

    def load_labels(self, labels: pd.DataFrame) -> LoadResult:
        frame = labels[LABEL_COLUMNS]
        # The last label for an account wins; MERGE ... SET replaces an earlier one.
        self._write(q.MERGE_LABELS, _records(frame.drop_duplicates("account_id", keep="last")), "labels")
        return LoadResult(loaded=len(frame))

    # -- reading ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        row = self.cypher.run(q.COUNTS, read_only=True)[0]
        return {k: int(row[k]) for k in COUNT_KEYS}

    def usage_summary(self) -> pd.DataFrame:
        cols = ["account_id", "requests", "input_tokens", "output_tokens", "first_ts", "last_ts", "active_days", "prompts"]
        frame = _frame(self.cypher.run(q.USAGE_SUMMARY, read_only=True), cols)
        for col in ("first_ts", "last_ts"):
            frame[col] = pd.to_datetime(frame[col])
        return frame

    def prompt_summary(self) -> pd.DataFrame:
        return _frame(self.cypher.run(q.PROMPT_SUMMARY, read_only=True), ["prompt_fingerprint", "accounts", "requests"])

    def member_usage(self, account_ids: list[str], bucket_minutes: int) -> pd.DataFrame:
        width = int(bucket_minutes) * 60
        rows = self._read(q.MEMBER_USAGE, "account_ids", sorted(set(map(str, account_ids))),
                          origin=ORIGIN_SECONDS, width=width)
        frame = _frame(rows, ["account_id", "slot", "prompt_fingerprint", "requests", "input_tokens", "output_tokens"])
        frame.insert(1, "bucket", _bucket_start(frame.pop("slot"), width))
        return frame

    def usage_by_group(self, groups: pd.DataFrame, bucket_minutes: int, origin: pd.Timestamp) -> pd.DataFrame:
        grouping = pd.DataFrame({"account_id": groups["account_id"].astype(str).to_numpy(),
                                 "grp": groups["group"].astype(str).to_numpy()}).drop_duplicates("account_id")
        width, start = int(bucket_minutes) * 60, int((pd.Timestamp(origin) - EPOCH) // pd.Timedelta(seconds=1))
        parts = self._read(q.USAGE_BY_GROUP, "rows", grouping.to_dict("records"), origin=start, width=width)
        others = self.cypher.run(q.USAGE_OUTSIDE_GROUPS, {
            "account_ids": grouping["account_id"].tolist(), "origin": start, "width": width,
        }, read_only=True)
        cols = ["grp", "slot", "requests", "output_tokens", "last_ts"]
        frame = pd.concat([_frame(parts, cols), _frame(others, cols[1:]).assign(grp=None)], ignore_index=True)
        frame["last_ts"] = pd.to_datetime(frame["last_ts"])
        # Batches are disjoint in accounts, so their partial sums add up exactly.
        frame = frame.groupby(["grp", "slot"], dropna=False, sort=False).agg(
            requests=("requests", "sum"), output_tokens=("output_tokens", "sum"), last_ts=("last_ts", "max")).reset_index()
        frame.insert(1, "bucket", _bucket_start(frame.pop("slot"), width, pd.Timestamp(origin)))
        frame = frame.rename(columns={"grp": "group"}).sort_values(["group", "bucket"], na_position="last")
        frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), None)
        frame[["requests", "output_tokens"]] = frame[["requests", "output_tokens"]].astype("int64")
        return frame[["group", "bucket", "requests", "output_tokens", "last_ts"]].reset_index(drop=True)

    def value_accounts(self, values: pd.DataFrame, per_value: int = 100, limit: int = 1000) -> pd.DataFrame:
        wanted = _records(values[["kind", "value"]].astype("str"))
        rows = self.cypher.run(q.VALUE_ACCOUNTS, {"values": wanted, "per_value": int(per_value), "limit": int(limit)},
                               read_only=True)
        return _frame(rows, ["account_id", "kind", "value", "holders"])

    # -- graph questions -------------------------------------------------------------------
    def _number_accounts(self) -> None:
        """Store each account's position in account-id order as ``idx`` (pair results use it)."""
        if self._numbered:
            return
        rows = self.cypher.run(q.ACCOUNT_NUMBERS)
        frame = _frame(rows, ["account_id", "idx"]).sort_values("account_id", kind="stable").reset_index(drop=True)
        wanted = np.arange(len(frame))
        stale = frame[pd.to_numeric(frame["idx"], errors="coerce").to_numpy(dtype=float) != wanted]
        updates = [{"account_id": a, "idx": int(i)} for a, i in zip(stale["account_id"], stale.index)]
        self._write(q.SET_ACCOUNT_NUMBERS, updates, "account numbers")
        self._numbered = True

    def identifier_degrees(self, min_accounts: int = 2) -> pd.DataFrame:
        rows = self.cypher.run(q.IDENTIFIER_DEGREES, {"min_accounts": int(min_accounts)}, read_only=True)
        return _frame(rows, ["kind", "value", "accounts"])

    def degree_histogram(self) -> pd.DataFrame:
        rows = self.cypher.run(q.DEGREE_HISTOGRAM, read_only=True)
        return _frame(rows, ["kind", "accounts", "values"])

    def identifier_kinds(self) -> list[str]:
        return [r["kind"] for r in self.cypher.run(q.IDENTIFIER_KINDS, read_only=True)]

    def value_degrees(self, values: pd.DataFrame) -> pd.DataFrame:
        rows = self._read(q.VALUE_DEGREES, "values", _records(values[["kind", "value"]].drop_duplicates()))
        return _frame(rows, ["kind", "value", "accounts"])

    def pair_evidence(self, policy: LinkPolicy, keep_pairs: pd.DataFrame | None = None) -> pd.DataFrame:
        self._number_accounts()
        keep = {}
        if keep_pairs is not None and len(keep_pairs):
            keep = {f"{int(a)},{int(b)}": True for a, b in zip(keep_pairs["a"], keep_pairs["b"])}
        values = {"kinds": policy.kind_rows(), "hub_cap": int(policy.hub_cap), "pair_cap": int(policy.pair_cap),
                  "anchors": int(policy.anchors)}
        candidates = int(next(iter(self.cypher.run(q.PAIR_CANDIDATES, values, read_only=True)), {}).get("pairs") or 0)
        # Pairs are grouped on the server; in pieces, so no one query holds more than the setting's pairs.
        pieces = max(1, -(-candidates // self.settings.pair_piece))
        log.info("grouping %d candidate pairs in %d pieces", candidates, pieces)
        params = {**values, "total": policy.total, "min_total": float(policy.min_total),
                  "keep_score": policy.keep_bar, "keep": keep, "pieces": pieces}
        rows = [row for piece in range(pieces)
                for row in self.cypher.run(q.PAIR_EVIDENCE, {**params, "piece": piece}, read_only=True)]
        frame = _frame(rows, ["a", "b", "family", "score", "shared"])
        frame = frame.astype({"a": "int32", "b": "int32", "score": "float64", "shared": "int64"})
        return frame.sort_values(["a", "b", "family"], kind="stable", ignore_index=True)

    def node_similarity(self, policy: SimilarityPolicy) -> pd.DataFrame:
        self._number_accounts()
        rows = self.cypher.run(q.SIMILARITY_ACTIVITY, {
            "max_degree": int(policy.max_template_accounts), "origin": ORIGIN_SECONDS,
            "width": int(policy.bucket_minutes) * 60,
        }, read_only=True)
        return algorithms.node_similarity(self.gds, _frame(rows, ["idx", "fp", "slot", "weight"]), policy)

    def components(self, edges: pd.DataFrame) -> pd.DataFrame:
        return algorithms.components(self.gds, edges)

    def communities(self, edges: pd.DataFrame, *, seed: int, resolution: float):
        return algorithms.communities(self.gds, edges, seed, resolution)

    # -- results ---------------------------------------------------------------------------
    def _write_results(self, tables: dict[str, pd.DataFrame]) -> None:
        self.cypher.run(q.DELETE_RESULT_CHUNKS, {"tables": sorted(tables)})
        for name, frame in tables.items():
            for seq, start in enumerate(range(0, max(len(frame), 1), RESULT_CHUNK_ROWS)):
                chunk = frame.iloc[start:start + RESULT_CHUNK_ROWS]
                row = {"table": name, "seq": seq, "rows": len(chunk), "parquet": _to_parquet(chunk)}
                self.cypher.run(q.MERGE_RESULT_CHUNKS, {"rows": [row]})
        if "accounts" in tables:
            self._mark_rings(tables["accounts"])

    def _mark_rings(self, accounts: pd.DataFrame) -> None:
        """Ring membership onto the account nodes, for Neo4j Browser and Bloom."""
        self.cypher.run(q.CLEAR_RING_MARKS)
        cols = ["account_id", "ring_id", "risk_score", "flagged", "cluster_id"]
        if not set(cols) <= set(accounts.columns):
            return
        members = accounts.loc[accounts["cluster_id"].notna(), cols]
        self._write(q.MARK_RINGS, _records(members), "ring marks")

    def _read_result(self, name: str) -> pd.DataFrame | None:
        rows = self.cypher.run(q.RESULT_CHUNKS, {"table": name}, read_only=True)
        if not rows:
            return None
        frames = [pq.read_table(io.BytesIO(r["parquet"])).to_pandas() for r in rows]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _drop_results(self) -> None:
        self.cypher.run(q.DELETE_RESULT_CHUNKS, {"tables": list(RESULT_TABLES)})


def _bucket_start(slot: pd.Series, width: int, origin: pd.Timestamp = BUCKET_ORIGIN) -> pd.Series:
    """Bucket numbers back to bucket start times."""
    seconds = pd.to_numeric(slot, errors="coerce") * width
    return origin + pd.to_timedelta(seconds, unit="s")


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values the driver sends: None for missing, datetimes for timestamps."""
    out = frame.astype(object).where(frame.notna(), None)
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            # An object Series: a plain list would be inferred back to datetime64.
            out[col] = pd.Series([None if v is None else v.to_pydatetime() for v in out[col]], index=out.index,
                                 dtype=object)
    return out.to_dict("records")


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows from Cypher as a DataFrame with these columns (also when there are none)."""
    return pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def _to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()
