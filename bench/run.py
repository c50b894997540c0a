"""End-to-end benchmark: time and peak memory per stage, at one or more sizes.

Each stage runs in its own process (the same `ringwatch` commands a user runs), so its
peak resident memory is its own. Not a test: run it by hand.

    python bench/run.py --accounts 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE = """
import json, resource, sys, time
from ringwatch.cli import main
started = time.perf_counter()
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("BENCH " + json.dumps({"seconds": time.perf_counter() - started, "peak_mb": peak_kb / 1024}))
"""


def stage(args: list[str]) -> dict:
    """Run one ringwatch command in a fresh process; returns its time and peak memory."""
    proc = subprocess.run([sys.executable, "-c", STAGE, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"stage {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    line = next(l for l in proc.stdout.splitlines() if l.startswith("BENCH "))
    return json.loads(line[6:]) | {"output": proc.stdout}


def run(accounts: int, workdir: Path, seed: int) -> list[dict]:
    data, db = workdir / f"data-{accounts}", workdir / f"bench-{accounts}.duckdb"
    rows = []
    steps = [
        ("generate", ["generate", "--out", str(data), "--accounts", str(accounts), "--seed", str(seed)]),
        ("ingest", ["ingest", "--db", str(db), "--signups", str(data / "signups.parquet"),
                    "--usage", "", "--labels", str(data / "labels.parquet")]),
        ("detect", ["detect", "--db", str(db), "--seed", str(seed)]),
        ("export", ["export", "bans", "--db", str(db), "--out", str(workdir / f"bans-{accounts}.csv")]),
        ("review", ["review", "--db", str(db), "--out", str(workdir / f"review-{accounts}.html")]),
        ("evaluate", ["evaluate", "--db", str(db), "--json", "--labels", str(data / "labels.parquet")]),
    ]
    for name, args in steps:
        if name == "ingest":
            args[args.index("--usage") + 1] = str(next(data.glob("usage*")))
        result = stage(args)
        rows.append({"accounts": accounts, "stage": name, "seconds": result["seconds"], "peak_mb": result["peak_mb"]})
        if name == "evaluate":
            text = result["output"]
            metrics = json.loads(text[: text.index("BENCH ")])
            rows[-1]["quality"] = {k: metrics[k] for k in ("precision", "recall", "f1", "roc_auc", "rings_recovered_share")}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here (default: a temp dir)")
    args = parser.parse_args()
    # The demo scenario sends about 20 requests per account (pre-aggregated into buckets).
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for n in args.accounts:
            started = time.perf_counter()
            rows += run(n, workdir, args.seed)
            rows.append({"accounts": n, "stage": "total", "seconds": time.perf_counter() - started,
                         "peak_mb": max(r["peak_mb"] for r in rows if r["accounts"] == n)})
    print(f"{'accounts':>10}  {'stage':10}  {'seconds':>8}  {'peak MB':>8}")
    for r in rows:
        print(f"{r['accounts']:>10,}  {r['stage']:10}  {r['seconds']:>8.1f}  {r['peak_mb']:>8.0f}")
    for r in rows:
        if "quality" in r:
            print(f"{r['accounts']:,} accounts: " + ", ".join(f"{k} {v}" for k, v in r["quality"].items()))


if __name__ == "__main__":
    main()
