"""What learning the ring score from labels gains per scenario family: trained against prior AUC on held-out labels.

For each family (``scenarios/families.py``) and seed it generates, ingests and detects with
the prior weights (``quality.run_one``), then splits the labels in two: half the true rings
(by ring id, seeded) with half the legitimate accounts (by legitimate group, so a household
or an office stays on one side; loners one by one) to train on, the rest to judge. It fits
the ring score on the training half (``training.fit``, as ``ringwatch train`` does) and
rescores the stored clusters' features: an account's score is its cluster's ring risk, 0
outside clusters. It prints the ROC AUC and F1 (flagged at the ring threshold) of the
trained and the prior model on the held-out half as a Markdown table. Not a test: run it
by hand.

    python bench/learning.py --accounts 20000 --seeds 0
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from quality import run_one

from ringwatch.graph.detection.scoring import PRIOR
from ringwatch.graph.detection.training import classification, fit, training_set
from ringwatch.graph.engines import open_engine
from ringwatch.scenarios.families import FAMILIES

# The stores are files the harness makes (``quality.run_one``), so the embedded engine reads them.
ENGINE = "embedded"
COLUMNS = ("family", "seed", "train fraud/legit", "test fraud/legit", "prior AUC", "trained AUC", "prior F1",
           "trained F1")


def split_labels(labels: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Half the true rings and half the legitimate groups (loners one by one) to train on, the rest to judge."""
    fraud = labels["label"] == "fraud"
    unit = np.where(fraud, "ring:" + labels["ring_id"].fillna(labels["account_id"]).astype(str),
                    "legit:" + labels["group_id"].fillna(labels["account_id"]).astype(str))
    units = pd.Series(unit).drop_duplicates().sort_values().to_numpy()
    rng = np.random.default_rng(seed)
    chosen = set()
    for side in ("ring:", "legit:"):
        mine = units[np.char.startswith(units.astype(str), side)]
        chosen |= set(rng.permutation(mine)[: len(mine) // 2])
    training = pd.Series(unit).isin(chosen).to_numpy()
    columns = ["account_id", "label", "ring_id"]
    return labels.loc[training, columns], labels.loc[~training, columns]


def learn_one(name: str, accounts: int, seed: int, workdir: Path) -> dict:
    """Detect with the prior, train on one half of the labels, score the other half with both models."""
    run_one(name, accounts, seed, workdir, ENGINE)
    folder = workdir / f"{name}-{accounts}-{seed}"
    train_labels, test_labels = split_labels(pd.read_parquet(folder / "data" / "labels.parquet"), seed)
    with open_engine(ENGINE, folder / "store.duckdb") as store:
        train, test = training_set(store, train_labels), training_set(store, test_labels, clustered_only=False)
    model = fit(train.x, train.y, train.names)
    threshold = test.run["ring_threshold"]
    prior, trained = (classification(test.scores(m), test.y, threshold) for m in (PRIOR, model))
    counts = lambda ts: f"{ts.counts()['fraud']:,}/{ts.counts()['legit']:,}"
    print(f"{name:12} seed {seed}: prior AUC {prior['roc_auc']}, trained AUC {trained['roc_auc']}; "
          f"bias {model.bias}, weights {model.weights}", file=sys.stderr, flush=True)
    return {"family": name, "seed": seed, "train fraud/legit": counts(train), "test fraud/legit": counts(test),
            "prior AUC": prior["roc_auc"], "trained AUC": trained["roc_auc"], "prior F1": prior["f1"],
            "trained F1": trained["f1"]}


def table(rows: list[dict]) -> str:
    """The runs as a Markdown table."""
    cell = lambda v: "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(row[c]) for c in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the generated files and stores here.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ringwatch-learning-") as scratch:
        rows = [learn_one(name, args.accounts, seed, args.workdir or Path(scratch))
                for name in args.families for seed in args.seeds]
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
