"""The Spark session the Spark engine runs on, and how frames travel between it and this process.

A session already running in this process (``spark-submit``, a notebook) is used as it is;
otherwise one is started with ``RINGWATCH_SPARK_MASTER`` (empty: Spark's own default,
``local[*]``) and the Spark settings of ``RINGWATCH_SPARK_CONF``, on top of whatever
``spark-defaults.conf`` and ``PYSPARK_SUBMIT_ARGS`` give, as for any PySpark application.
Frames travel as Arrow tables both ways (``createDataFrame`` of an Arrow table, ``toArrow``),
never through PySpark's pandas conversions.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

import pandas as pd
import pyarrow as pa

from ringwatch.settings import SETTINGS, memory_share

from ..errors import EngineError

# Always set: ringwatch's timestamps are naive UTC, and Spark would read them in the JVM's zone.
FIXED_CONF = {"spark.sql.session.timeZone": "UTC"}
# Only where ringwatch starts the session in local mode, and the user set none of them: a shuffle
# partition per core. Spark's 200 cost more in task start-up than they save on one machine's data
# (the engine's reference tests: 141 s with 2 partitions on 2 cores, 179 s with 8).
# The workers run this Python, the one ringwatch is installed in, not whatever python3 is on PATH.
# Spark's own driver default, 1 GB, is what it shuffles a million accounts' pairs in: the JVM
# gets a quarter of the memory instead, as DuckDB does (``settings.memory_limit``).
LOCAL_DEFAULTS = {"spark.sql.shuffle.partitions": str(max(2, os.cpu_count() or 2)),
                  "spark.ui.showConsoleProgress": "false", "spark.pyspark.python": sys.executable,
                  "spark.driver.memory": f"{(memory_share() or 2**30) // 2**20}m"}
MISSING = ("the Spark engine needs pyspark (pip install 'ringwatch[spark]') and Java 17 or later "
           "(java on PATH, or JAVA_HOME)")


def spark_conf(text: str | None = None) -> dict[str, str]:
    """``RINGWATCH_SPARK_CONF``: Spark settings as ``key=value`` pairs separated by spaces."""
    text = SETTINGS["spark_conf"].value() if text is None else text
    conf = {}
    for pair in text.split():
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("spark.") or not value:
            raise EngineError(f"{SETTINGS['spark_conf'].env}: {pair!r} is not a spark.key=value pair")
        conf[key] = value
    return conf


def _pyspark():
    """PySpark's SQL module, imported on first use (it warns about the pandas version, whose
    conversions the engine never uses)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return importlib.import_module("pyspark.sql")
    except ImportError as exc:
        raise EngineError(f"{MISSING}: {exc}") from exc


def session():
    """The active Spark session, or a new one from ringwatch's settings."""
    sql = _pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        for key, value in FIXED_CONF.items():
            active.conf.set(key, value)
        return active
    conf = spark_conf()
    master = SETTINGS["spark_master"].value()
    builder = sql.SparkSession.builder.appName("ringwatch")
    if master:
        builder = builder.master(master)
    if not master or master.startswith("local"):
        for key, value in LOCAL_DEFAULTS.items():
            builder = builder.config(key, conf.get(key, value))
    for key, value in {**conf, **FIXED_CONF}.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            spark = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: Py4J and Spark raise several kinds
        raise EngineError(f"cannot start Spark ({MISSING}): {str(exc).splitlines()[0]}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_spark(spark, frame: pd.DataFrame | pa.Table):
    """A Spark DataFrame of these rows (via Arrow; an empty frame keeps its columns)."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    return spark.createDataFrame(table)


def to_pandas(df) -> pd.DataFrame:
    """A Spark DataFrame's rows here, as pandas (via Arrow; timestamps naive UTC, as the store keeps them)."""
    table = df.toArrow()
    columns = {}
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            column = column.cast(pa.timestamp(field.type.unit))
        columns[field.name] = column
    return pa.table(columns).to_pandas() if columns else pd.DataFrame()


def copy_to_parquet(con, query: str, path) -> None:
    """The rows of a store query (fixed text, never input) written by the store as a Parquet file at ``path``."""
    quoted = str(path).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{quoted}' (FORMAT parquet)")
