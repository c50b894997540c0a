"""Load speed into a Neo4j (Bolt) server: accounts, identifiers and usage rows per second.

Needs a running server named by NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD (its ringwatch data
is wiped first: point it at a throwaway database). For each size it generates the demo
scenario, clears the store, loads the signups (accounts and their identifier values) and
then the usage through ``ringwatch.graph.load.ingest``, each file one unit of work sent as
batched ``UNWIND`` writes of ``RINGWATCH_NEO4J_BATCH`` rows. Not a test: run it by hand.

    NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=... python bench/neo4j_load.py --accounts 20000 100000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from ringwatch.scenarios.generate import generate


def measure(accounts: int, workdir: Path, seed: int) -> dict:
    files = generate(workdir / f"data-{accounts}", accounts=accounts, seed=seed)
    with open_engine("neo4j") as engine:
        engine.clear_store()
        started = time.perf_counter()
        ingest(engine, signups=files.signups)
        signups_s = time.perf_counter() - started
        after_signups = engine.counts()
        started = time.perf_counter()
        ingest(engine, usage=files.usage)
        usage_s = time.perf_counter() - started
        counts = engine.counts()
        engine.clear_store()
    return {"accounts": after_signups["accounts"], "identifiers": after_signups["identifiers"],
            "usage_rows": counts["usage_rows"], "signups_s": signups_s, "usage_s": usage_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    batch = os.environ.get("RINGWATCH_NEO4J_BATCH", "10000")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.accounts:
            rows.append(measure(n, Path(tmp), args.seed))
    print(f"server {os.environ.get('NEO4J_URI')}, {batch} rows per UNWIND batch")
    print("| accounts | identifiers | usage rows | signups load | accounts/s | identifiers/s | usage load | usage rows/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['accounts']:,} | {r['identifiers']:,} | {r['usage_rows']:,} | {r['signups_s']:.1f} s "
              f"| {r['accounts'] / r['signups_s']:,.0f} | {r['identifiers'] / r['signups_s']:,.0f} "
              f"| {r['usage_s']:.1f} s | {r['usage_rows'] / r['usage_s']:,.0f} |")


if __name__ == "__main__":
    main()
