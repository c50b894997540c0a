"""Inputs only Spark reads: catalogue tables (``table:db.signups``) and URIs (``s3a://``, ``abfss://``, ``gs://``,
``hdfs://``, ``file://``), copied to Parquet files for ingest's reader.

Spark reads the source (a table as the catalogue has it; a URI as Parquet, or as CSV with a
header or JSON Lines where its name ends so) and writes it to Parquet part files in the work
folder (``RINGWATCH_SPARK_WORKDIR``), which ingest then reads as it reads any folder: every
value validated, bad rows quarantined, each part file a unit of work remembered by its
content, so the same table read again loads nothing twice. CSV values reach ingest as text;
Spark's own parsing applies (an empty field is no value; bytes that are not UTF-8 arrive as
U+FFFD, where ingest's reader quarantines the row). Ingest's summary and quarantine name
the input as given with its part file (``table:lake.signups#part-00001.parquet``); rows are
numbered within their part file.
"""

from __future__ import annotations

import uuid
from pathlib import Path

TABLE = "table:"
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json"}


def read(spark, source: str):
    """The source as a Spark DataFrame."""
    if source.startswith(TABLE):
        return spark.table(source[len(TABLE):])
    name = source.rstrip("/").lower().removesuffix(".gz")
    fmt = next((f for ext, f in FORMATS.items() if name.endswith(ext)), "parquet")
    reader = spark.read.option("header", "true") if fmt == "csv" else spark.read
    return reader.format(fmt).load(source)


def copy(spark, folder: Path, source: str) -> Path:
    """Write the source to Parquet part files in a new folder under ``folder``; that folder."""
    target = folder / f"input-{uuid.uuid4().hex}"
    read(spark, source).write.parquet(str(target))
    # Named by their place alone (Spark adds a job's id), as ingest shows them: ``table:x#part-00001.parquet``.
    for number, part in enumerate(sorted(target.glob("part-*.parquet"))):
        part.rename(target / f"part-{number:05d}.parquet")
    return target
