"""The Spark engine: the embedded engine's store, with the heavy questions asked of Spark.

Records, ledgers, casework and results stay in a DuckDB file (the embedded engine's store:
``--db``), which gives units of work, atomic ledger appends and the audit chain's
verification exactly as the embedded engine does; Spark's file tables give none of those
without a table format (Delta Lake, Iceberg) whose jars a cluster may not have. What is
heavy runs in Spark SQL (``sql``): the link table, identifier degrees, pair evidence with its
caps and anchors, co-activity similarity, the usage sums, and connected components of the
strong links (``components``), and community detection inside the large components, each a
task on a worker (``communities``), or across the workers by label propagation for a component
too large for one (``propagation``). The records reach Spark as Parquet files the store writes
once per run into a work folder (``RINGWATCH_SPARK_WORKDIR``; on a cluster, a folder every
executor can read); the reads of clustered accounts run in the store, as in the embedded engine.
Ingest may name a catalogue table or a URI, which Spark copies to Parquet for ingest's reader
(``inputs``), and a detection run's results are also written where ``RINGWATCH_SPARK_RESULTS``
says, once the store has committed them (``published``).
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ringwatch.settings import SETTINGS

from .. import inprocess
from ..embedded.engine import PART_RUNS, EmbeddedEngine, _parts
from ..errors import EngineError
from ..policy import BUCKET_ORIGIN, LinkPolicy, SimilarityPolicy
from ..sources import LAKE_SOURCE
from . import communities as community_split
from . import components as star
from . import inputs as lake_inputs
from . import propagation, published, sql
from . import session as spark_session

# The store's columns Spark reads (COPY's SELECT lists: fixed names, no input).
EXPORTS = {
    "accounts": "SELECT account_id FROM accounts",
    "identifiers": "SELECT account_id, kind, value FROM identifiers",
    "usage": "SELECT account_id, ts, ip, prompt_fingerprint, requests, input_tokens, output_tokens FROM usage",
}
log = logging.getLogger(__name__)
ORIGIN_MICROS = int((BUCKET_ORIGIN - pd.Timestamp("1970-01-01")).total_seconds()) * 1_000_000


class _SparkSide:
    """What the engine keeps on Spark's side for one store: the records as of their last change, and
    the link tables built from them. Shared with the engine's side reader, so built once, under a lock."""

    def __init__(self) -> None:
        self.spark = spark_session.session()
        given = SETTINGS["spark_workdir"].value()
        if given:
            Path(given).mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="ringwatch-spark-", dir=given or None))
        self.lock = threading.RLock()
        self.records: dict | None = None
        self.links: dict | None = None
        self.views: dict = {}  # id(frame) -> (frame, view): the kept frames
        self.token = uuid.uuid4().hex[:12]
        self.numbers = itertools.count()

    def tables(self, con) -> dict:
        """The records as Spark DataFrames, written from the store (``con``) when they changed."""
        with self.lock:
            if self.records is None:
                run = self.folder / uuid.uuid4().hex
                run.mkdir()
                self.records = {}
                for name, query in EXPORTS.items():
                    path = run / f"{name}.parquet"
                    spark_session.copy_to_parquet(con, query, path)
                    self.records[name] = self.spark.read.parquet(str(path))
            return self.records

    def keep(self, frame):
        """Cache a DataFrame until ``release`` or ``reset``, under a view of its own that statements read it by.
        (A view is dropped only with its cache: PySpark's ``sql(query, name=frame)`` drops the view it makes
        when the statement is planned, and dropping a view uncaches the frame it names.)"""
        frame = frame.persist()
        with self.lock:
            self.views[id(frame)] = (frame, f"ringwatch_{self.token}_{len(self.views)}_{next(self.numbers)}")
        frame.createOrReplaceTempView(self.views[id(frame)][1])
        return frame

    def release(self, frame) -> None:
        """Uncache a kept DataFrame and drop its view."""
        with self.lock:
            kept = self.views.pop(id(frame), None)
        if kept is not None:
            self.spark.catalog.dropTempView(kept[1])
        frame.unpersist()

    def sql(self, query: str, args: dict | None, frames: dict):
        """Run ``query`` with ``{name}`` read as the given DataFrames: a kept one by its view, any other by a
        view made for this statement and dropped once it is planned."""
        names, made = {}, []
        for name, frame in frames.items():
            kept = self.views.get(id(frame))
            if kept is not None and kept[0] is frame:
                names[name] = kept[1]
                continue
            names[name] = f"ringwatch_{self.token}_t{next(self.numbers)}"
            frame.createOrReplaceTempView(names[name])
            made.append(names[name])
        try:
            return self.spark.sql(query.format(**names), args=args or {})
        finally:
            for name in made:
                self.spark.catalog.dropTempView(name)

    def reset(self) -> None:
        """The records changed, or the run let go of its tables: drop everything built from them."""
        with self.lock:
            for frame, _ in list(self.views.values()):
                self.release(frame)
            self.links = None
            if self.records is not None:
                for run in self.folder.iterdir():
                    shutil.rmtree(run, ignore_errors=True)
            self.records = None

    def close(self) -> None:
        self.reset()
        shutil.rmtree(self.folder, ignore_errors=True)


class SparkEngine(EmbeddedEngine):
    """DuckDB store; link tables, pair evidence, co-activity, usage sums and components in Spark."""

    name = "spark"
    _publish: tuple[str, str] | None = None  # where to, and the revision of results saved in this unit of work

    def __init__(self, db=None):
        super().__init__(db)
        try:
            self._side = _SparkSide()
        except BaseException:
            super().close()
            raise
        self._owns_side = True

    def close(self) -> None:
        try:
            if self._owns_side:
                self._side.close()
        finally:
            super().close()

    def side_reader(self) -> SparkEngine | None:
        other = super().side_reader()
        if other is not None:
            other._side, other._owns_side = self._side, False
        return other

    def _changed(self) -> None:
        super()._changed()
        self._side.reset()

    # -- inputs Spark reads: tables and URIs ------------------------------------------------
    @contextmanager
    def readable(self, path: str):
        if not LAKE_SOURCE.match(str(path)):
            yield path
            return
        with _spark_errors():
            copied = lake_inputs.copy(self._side.spark, self._side.folder, str(path))
        try:
            yield str(copied)
        finally:
            shutil.rmtree(copied, ignore_errors=True)

    # -- a run's results, also where the lake's tables are ---------------------------------
    def _write_results(self, tables: dict[str, pd.DataFrame]) -> None:
        super()._write_results(tables)
        root = SETTINGS["spark_results"].value().strip()
        if "runs" in tables and root:  # a detection run's, written once committed
            self._publish = root, str(tables["revision"]["revision"].iloc[0])

    def _commit(self) -> None:
        super()._commit()
        publish, self._publish = self._publish, None
        if publish is not None:
            root, revision = publish
            try:
                with _spark_errors():
                    published.publish(self._side, self.con, root, revision)
            except EngineError as exc:
                raise EngineError(f"the run's results are saved in the store, but writing them to {root} failed "
                                  f"({exc}); the next run writes them again") from exc

    def _rollback(self) -> None:
        self._publish = None
        super()._rollback()

    def _sql(self, query: str, args: dict | None = None, **frames):
        """A statement over named DataFrames, planned (Spark's errors become ``EngineError``)."""
        with _spark_errors():
            return self._side.sql(query, args, frames)

    def _pandas(self, query: str, args: dict | None = None, **frames) -> pd.DataFrame:
        """A statement's rows, here (Spark's errors become ``EngineError``)."""
        frame = self._sql(query, args, **frames)
        with _spark_errors():
            return spark_session.to_pandas(frame)

    def _frame(self, frame: pd.DataFrame):
        return spark_session.to_spark(self._side.spark, frame)

    # -- the link tables -------------------------------------------------------------------
    def _spark_links(self) -> dict:
        side = self._side
        with side.lock:
            if side.links is None:
                records = side.tables(self.con)
                index = side.keep(_numbered(records["accounts"]))
                held = side.keep(self._sql(sql.HELD, identifiers=records["identifiers"], usage=records["usage"],
                                           account_index=index))
                degree = side.keep(self._sql(sql.VALUE_DEGREE, held=held))
                own = side.keep(self._sql(sql.OWN_VALUES, held=held, value_degree=degree))
                side.links = {"account_index": index, "held": held, "value_degree": degree, "own_values": own}
            return side.links

    def _build_links(self) -> None:
        # The clustered accounts' reads (``member_slices``) run in the store and ask it each value's
        # accounts: the shared values go there from Spark (their number, not the link rows).
        if not self._links_ready:
            shared = self._pandas("SELECT kind, value, n FROM {value_degree}",
                                  value_degree=self._spark_links()["value_degree"])
            self._with("shared", shared, "CREATE OR REPLACE TEMP TABLE value_degree AS SELECT * FROM shared")
            self._links_ready = True

    def graph_done(self) -> None:
        super().graph_done()
        with self._side.lock:
            if self._side.links is not None:
                for frame in self._side.links.values():
                    self._side.release(frame)
                self._side.links = None

    # -- graph questions in Spark SQL ------------------------------------------------------
    def identifier_degrees(self, min_accounts: int = 2) -> pd.DataFrame:
        links = self._spark_links()
        if min_accounts < 2:
            return self._pandas(sql.DEGREES_ALL, {"least": int(min_accounts)}, held=links["held"])
        return self._pandas(sql.DEGREES, {"least": int(min_accounts)}, value_degree=links["value_degree"])

    def degree_histogram(self) -> pd.DataFrame:
        links = self._spark_links()
        return self._pandas(sql.DEGREE_HISTOGRAM, value_degree=links["value_degree"], own_values=links["own_values"])

    def value_degrees(self, values: pd.DataFrame) -> pd.DataFrame:
        links = self._spark_links()
        wanted = values[["kind", "value"]].astype(str).drop_duplicates()
        return self._pandas(sql.VALUE_DEGREES, wanted=self._frame(wanted), value_degree=links["value_degree"],
                            held=links["held"])

    def pair_evidence_parts(self, policy: LinkPolicy, keep_pairs: pd.DataFrame | None = None):
        links = self._spark_links()
        keep = (keep_pairs[["a", "b"]].drop_duplicates().astype("int32") if keep_pairs is not None
                else pd.DataFrame({"a": [], "b": []}, dtype="int32"))
        kinds = policy.kind_table()
        codes, families = pd.factorize(kinds["family"], sort=True)
        weights = self._frame(kinds.assign(f=codes.astype(np.int32)))
        # Kept while the pairs are made: the self-join reads it twice, and would number each value's accounts twice.
        values = self._sql(sql.PAIR_VALUES, {"total": policy.total, "hub_cap": int(policy.hub_cap)},
                           held=links["held"], value_degree=links["value_degree"], kind_weights=weights)
        values = self._side.keep(values)
        bar = int(policy.min_total * 2**80)  # the bar in units of 2^-80, as the embedded engine rounds it
        pairs = self._sql(sql.PAIRS, {"pair_cap": int(policy.pair_cap), "anchors": int(policy.anchors),
                                      "half": float(2**40), "grain": float(2**80), "whole": 2**40,
                                      "bar_hi": bar >> 40, "bar_lo": bar & (2**40 - 1), "keep_score": policy.keep_bar},
                          pair_values=values, kind_weights=weights, keep_pairs=self._frame(keep))
        pairs = self._side.keep(pairs)
        try:
            width = max(1, -(-int(policy.total) // PART_RUNS))
            counts = self._pandas(sql.PAIR_ROWS, {"width": width}, pairs=pairs)
            for lo, hi in _parts(counts["part"].to_numpy() * width, counts["pairs"].to_numpy(), self.pair_part_rows):
                found = self._pandas(sql.PAIR_PART, {"lo": int(lo), "hi": int(hi)}, pairs=pairs)
                family = pd.Categorical.from_codes(found.pop("f").to_numpy(), categories=families.astype(str))
                found.insert(2, "family", family)
                yield lo, hi, found
        finally:
            self._side.release(pairs)
            self._side.release(values)

    def node_similarity(self, policy: SimilarityPolicy) -> pd.DataFrame:
        links = self._spark_links()
        records = self._side.tables(self.con)
        return self._pandas(sql.SIMILARITY, {
            "origin": ORIGIN_MICROS, "width": int(policy.bucket_minutes) * 60_000_000,
            "max_degree": int(policy.max_template_accounts), "degree_cutoff": int(policy.degree_cutoff),
            "cutoff": float(policy.cutoff), "top_k": int(policy.top_k),
        }, usage=records["usage"], account_index=links["account_index"], value_degree=links["value_degree"])

    def usage_summary(self) -> pd.DataFrame:
        return self._pandas(sql.USAGE_SUMMARY, usage=self._side.tables(self.con)["usage"])

    def prompt_summary(self) -> pd.DataFrame:
        return self._pandas(sql.PROMPT_SUMMARY, usage=self._side.tables(self.con)["usage"])

    def communities_of(self, graphs, *, seed: int, resolution: float):
        bound = SETTINGS["spark_split_links"].integer(minimum=1)
        graphs = list(graphs)
        if not graphs or any(g[["a", "b"]].dtypes.map(lambda t: t.kind not in "iu").any() for g in graphs):
            yield from super().communities_of(graphs, seed=seed, resolution=resolution)
            return
        # Each component whole on a worker (Louvain), unless it has more links than one should hold: those are
        # split together, across the workers (components share no account, so no label crosses from one to another).
        whole = [i for i, g in enumerate(graphs) if len(g) <= bound]
        found = dict(zip(whole, community_split.communities_of(
            self._frame, spark_session.to_pandas, [graphs[i] for i in whole], seed, resolution) if whole else []))
        found.update(self._propagated({i: g for i, g in enumerate(graphs) if len(g) > bound}, bound))
        for i in range(len(graphs)):
            yield found.pop(i)

    def _propagated(self, graphs: dict, bound: int) -> dict:
        if not graphs:
            return {}
        groups, rounds, settled = propagation.communities(
            pd.concat(graphs.values(), ignore_index=True), self._frame, self._sql, self._pandas, self._side.keep,
            self._side.release)
        found = {}
        for i, graph in graphs.items():
            mine = groups[groups["account_id"].isin(np.union1d(graph["a"], graph["b"]))].reset_index(drop=True)
            found[i] = mine, propagation.modularity(graph, mine)
            log.warning("a component of %d accounts has %d strong links, more than %s=%d lets one worker hold: split "
                        "across the workers by label propagation (%d rounds, %s; modularity %.2f), not by Louvain, "
                        "so its communities may differ from the embedded engine's", len(mine), len(graph),
                        SETTINGS["spark_split_links"].env, bound, rounds, "settled" if settled else "not settled",
                        found[i][1])
        return found

    def components(self, edges: pd.DataFrame) -> pd.DataFrame:
        if edges.empty:
            return inprocess.empty_groups()
        ids, src, dst = inprocess.numbered(edges)
        pairs = pd.DataFrame({"u": src.astype(np.int64), "v": dst.astype(np.int64)})
        root = star.components(self._frame(pairs), len(ids), self._sql, self._pandas)
        return inprocess.groups(ids, root)


@contextmanager
def _spark_errors():
    """Spark's analysis and execution errors (several kinds, from Python and from the JVM) as ``EngineError``
    with Spark's first line."""
    try:
        yield
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"spark: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc


def _numbered(accounts):
    """account_id, idx: each account's position in account-id order, numbered on every worker at once
    (ranges of ids, each counted, then numbered from the count before it), not sorted on one."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = accounts.sparkSession
    parts = max(1, spark.sparkContext.defaultParallelism)
    # Checkpointed: the ranges come from a random sample, and the counts must be of the very ranges numbered.
    ranged = accounts.select("account_id").repartitionByRange(parts, "account_id") \
        .withColumn("part", F.spark_partition_id()).localCheckpoint()
    sizes = {row["part"]: row["n"] for row in ranged.groupBy("part").agg(F.count("*").alias("n")).collect()}
    offsets, start = [], 0
    for part in sorted(sizes):
        offsets.append((part, start))
        start += sizes[part]
    if start >= 2**31 - 1:
        raise EngineError(f"{start:,} accounts: account numbers are 32-bit integers")
    starts = spark.createDataFrame(offsets or [(0, 0)], "part INT, start BIGINT")
    order = Window.partitionBy("part").orderBy("account_id")
    return (ranged.join(F.broadcast(starts), "part")
            .select("account_id", (F.col("start") + F.row_number().over(order) - 1).cast("int").alias("idx")))

