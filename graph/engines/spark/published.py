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
from ..embedded.sql import TABLE_EXISTS
from .session import copy_to_parquet

# Written after every other table: its partition says the run is whole.
LAST = "runs"


def publish(side, con, root: str, revision: str) -> list[str]:
    """Write the store's result tables (``con``) under ``root`` for ``revision``; the tables written, in order."""
    stored = [n for n in RESULT_TABLES if con.execute(TABLE_EXISTS, [f"result_{n}"]).fetchall()[0][0]]
    names = [n for n in stored if n not in ("revision", LAST)] + [n for n in stored if n == LAST]
    folder = side.folder / f"results-{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        for name in names:
            path = folder / f"{name}.parquet"
            # ``name`` is one of RESULT_TABLES: a fixed name, never input.
            copy_to_parquet(con, f"SELECT * FROM result_{name}", path)
            side.spark.read.parquet(str(path)).write.mode("overwrite").parquet(
                f"{root.rstrip('/')}/{name}/revision={revision}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return names
