"""How many flagged rings each true ring comes out as, and how pure the flagged rings are.

Reads a store that holds labels and a detection run (for example one `ringwatch demo`
made) and reports: flagged rings, true rings, fragments per true ring (the number of
flagged rings holding at least one of its members), ring purity (the share of a flagged
ring's members that come from its majority true ring; legitimate accounts count as a group
of their own), account precision and recall (`graph.evaluate`) and rings recovered. Not a
test: run it by hand.

    python bench/fragments.py /tmp/x.duckdb [more stores ...] [--json]
"""

from __future__ import annotations

import argparse
import json

import pandas as pd

from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports.evaluation import evaluate


def fragment_report(accounts: pd.DataFrame, labels: pd.DataFrame) -> dict:
    """Fragmentation and purity figures for one run's accounts table against its labels."""
    df = accounts[["account_id", "ring_id", "flagged"]].rename(columns={"ring_id": "found"}).merge(
        labels[["account_id", "label", "ring_id"]].rename(columns={"ring_id": "truth"}), on="account_id")
    found = df[df["found"].notna()].copy()
    found["group"] = found["truth"].where(found["label"].eq("fraud") & found["truth"].notna(), "(legitimate)")
    counts = found.groupby(["found", "group"]).size()
    purity = (counts.groupby(level="found").max() / counts.groupby(level="found").sum())
    fraud = df[df["label"].eq("fraud") & df["truth"].notna()]
    fragments = fraud.groupby("truth")["found"].nunique()
    touched = fragments[fragments > 0]
    metrics = evaluate(accounts, labels)
    return {
        "flagged_rings": int(df["found"].nunique()),
        "true_rings": int(fragments.size),
        "fragments_mean": round(float(touched.mean()), 3) if len(touched) else float("nan"),
        "fragments_max": int(touched.max()) if len(touched) else 0,
        "most_fragmented": {k: int(v) for k, v in touched.sort_values(ascending=False).head(5).items()},
        "purity_min": round(float(purity.min()), 4) if len(purity) else float("nan"),
        "purity_mean": round(float(purity.mean()), 4) if len(purity) else float("nan"),
        "precision": metrics["precision"],
        "recall": metrics["recall"],
        "rings_recovered": f"{metrics['true_rings_recovered']}/{metrics['true_rings']}",
        "flagged_accounts": metrics["flagged_accounts"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stores", nargs="+", help="DuckDB stores with labels and a detection run")
    parser.add_argument("--json", action="store_true", help="one JSON object per store")
    args = parser.parse_args()
    for path in args.stores:
        with open_engine("embedded", path) as engine:
            report = fragment_report(engine.results("accounts"), engine.labels())
        if args.json:
            print(json.dumps({"store": path, **report}))
            continue
        print(path)
        for key, value in report.items():
            print(f"  {key:18} {value}")


if __name__ == "__main__":
    main()
