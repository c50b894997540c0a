"""Ingest against its floor: `ringwatch ingest` and a plain DuckDB load of the same files.

The floor is what reading the files and writing them to a DuckDB file costs with no
validation at all (``CREATE TABLE ... AS SELECT * FROM read_parquet(...)``, then
``CHECKPOINT``). Each side runs in a fresh process, so its peak memory is its own. Not a
test: run it by hand on a data folder written by ``ringwatch generate``.

    python bench/ingest_floor.py /tmp/demo-1m
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from run import stage

FLOOR = """
import json, resource, sys, time
import duckdb
started = time.perf_counter()
con = duckdb.connect(sys.argv[1])
for name, path in zip(("signups", "usage"), sys.argv[2:]):
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [path])
con.execute("CHECKPOINT")
con.close()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("BENCH " + json.dumps({"seconds": time.perf_counter() - started, "peak_mb": peak_kb / 1024}))
"""


def floor(db: Path, files: list[Path]) -> dict:
    """The plain DuckDB load of ``files`` into a new file ``db``: its time and peak memory."""
    proc = subprocess.run([sys.executable, "-c", FLOOR, str(db), *map(str, files)],
                          check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"plain load failed:\n{proc.stderr}")
    return json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("BENCH "))[6:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder holding signups.parquet and usage.parquet")
    args = parser.parse_args()
    files = [args.data / "signups.parquet", args.data / "usage.parquet"]
    with tempfile.TemporaryDirectory(prefix="ringwatch-bench-") as tmp:
        plain = floor(Path(tmp) / "floor.duckdb", files)
        ingest = stage(["ingest", "--db", str(Path(tmp) / "store.duckdb"), "--signups", str(files[0]),
                        "--usage", str(files[1]), "--quarantine", str(Path(tmp) / "quarantine.csv")])
    print(f"{'step':<8} {'seconds':>8} {'peak MB':>8}")
    for name, result in (("floor", plain), ("ingest", ingest)):
        print(f"{name:<8} {result['seconds']:>8.1f} {result['peak_mb']:>8.0f}")
    print(f"ingest / floor: {ingest['seconds'] / plain['seconds']:.1f}x time, "
          f"{ingest['peak_mb'] / plain['peak_mb']:.1f}x memory")


if __name__ == "__main__":
    main()
