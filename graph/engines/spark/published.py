"""Each detection run's results as Parquet tables where the lake's other tables are (``RINGWATCH_SPARK_RESULTS``).

The store keeps the results casework works on; a run's results are also written, once the
store has committed them, to ``<results>/<table>/revision=<revision>/`` by Spark, so a folder
or an object-store URI (``s3a://``, ``abfss://``, ``gs://``) serves alike and each table
reads as one Parquet table partitioned by run (``spark.read.parquet("<results>/accounts")``).
A run's ``runs`` table is written last: a revision listed in ``<results>/runs`` has all its
tables, so a reader takes the latest listed revision and never a run half written. Earlier
runs' partitions stay until removed. Analysts' decisions between runs change the store's
results, not these: the next run writes them.
"""

from __future__ import annotations

import shutil
import uuid

from ..columns import RESULT_TABLES

# Written after every other table: its partition says the run is whole.
LAST = "runs"


def publish(side, con, root: str, revision: str) -> list[str]:
    """Write the store's result tables (``con``) under ``root`` for ``revision``; the tables written, in order."""
    stored = {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()}
    names = [n for n in RESULT_TABLES if n not in ("revision", LAST) and f"result_{n}" in stored]
    names += [LAST] if f"result_{LAST}" in stored else []
    folder = side.folder / f"results-{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        for name in names:
            path = folder / f"{name}.parquet"
            # ``name`` is one of RESULT_TABLES: a fixed name, never input.
            con.execute(f"COPY (SELECT * FROM result_{name}) TO '{_quoted(str(path))}' (FORMAT parquet)")
            side.spark.read.parquet(str(path)).write.mode("overwrite").parquet(
                f"{root.rstrip('/')}/{name}/revision={revision}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return names


def _quoted(text: str) -> str:
    return text.replace("'", "''")
