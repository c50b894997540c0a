"""Detection quality against ground-truth labels: precision, recall, F1, ROC AUC, rings recovered."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from ringwatch.ingest.reader import read_records

from ..engines import Engine


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney U) formula, ties counted half."""
    pos = positive.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _attr(labels: pd.DataFrame, key: str) -> pd.Series:
    if "attributes" not in labels:
        return pd.Series([None] * len(labels), index=labels.index)
    return labels["attributes"].map(lambda a: json.loads(a).get(key) if isinstance(a, str) and a else None)


def evaluate(results: pd.DataFrame, labels: pd.DataFrame, recovered_share: float = 0.5) -> dict:
    """Compare detection results (accounts table) with labels (account_id, label, ring_id, attributes)."""
    df = labels.merge(results[["account_id", "ring_id", "risk_score", "flagged"]].rename(
        columns={"ring_id": "found_ring"}), on="account_id", how="inner")
    truth = df["label"].eq("fraud").to_numpy()
    flagged = df["flagged"].astype(bool).to_numpy()
    tp = int((truth & flagged).sum())
    fp = int((~truth & flagged).sum())
    fn = int((truth & ~flagged).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    fraud = df[truth & df["ring_id"].notna()]
    per_ring = fraud.groupby("ring_id")["flagged"].mean()
    found = df[df["found_ring"].notna()]
    ring_purity = found.groupby("found_ring")["label"].apply(lambda s: s.eq("fraud").mean())
    df["scenario"] = _attr(df, "scenario")
    fp_by_scenario = df[~truth & flagged]["scenario"].fillna("unknown").value_counts().to_dict()
    return {
        "accounts_evaluated": len(df),
        "fraud_accounts": int(truth.sum()),
        "flagged_accounts": int(flagged.sum()),
        "true_positives": tp, "false_positives": fp, "false_negatives": fn,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "roc_auc": round(roc_auc(df["risk_score"].to_numpy(dtype=float), truth), 4),
        "true_rings": int(per_ring.size),
        "true_rings_recovered": int((per_ring >= recovered_share).sum()),
        "rings_recovered_share": round(float((per_ring >= recovered_share).mean()), 4) if per_ring.size else float("nan"),
        "flagged_rings": int(ring_purity.size),
        "flagged_rings_mostly_legit": int((ring_purity < 0.5).sum()),
        "median_ring_purity": round(float(ring_purity.median()), 4) if ring_purity.size else float("nan"),
        "false_positives_by_scenario": fp_by_scenario,
    }


def evaluate_against(engine: Engine, labels_path) -> dict:
    """The last detection run against a labels file (any format the reader takes)."""
    frames = [batch.rows for batch in read_records("labels", labels_path)]
    truth = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["account_id", "label", "ring_id"])
    return evaluate(engine.results("accounts"), truth)
