"""Learning the ring score's weights from analysts' labels, checking them, storing them.

Training rows: one per labelled account in a cluster of the last detection run, carrying
its cluster's features and its label. The ring score scores clusters; an account in no
cluster has no features to weigh, and counting the fraud that linking missed would only
drag the bias up and flag more of the clusters that were found. Labels come
from the store's labels table with analysts' decisions laid over them (``labelled_accounts``).
A row's inputs are the score's own (``design``): ``scoring.contributions`` at unit weights,
so the organisation discount applies exactly as in scoring, a fitted weight means what a
prior weight means, and a score stays a sum of per-feature contributions.

Fit: L2-regularised logistic regression as a MAP estimate whose Gaussian prior is centred
on the documented weights and bias (``scoring.PRIOR``), not on zero, with standard
deviation ``PRIOR_SD`` log-odds units per weight. With few labels the model stays near the
priors and moves only as far as the labels pull it; with no information it is the prior.
Classes are balanced by sample weights, and every weight keeps its prior's sign (a feature
documented as evidence of fraud never becomes evidence against; it stops at 0, and a
feature whose prior weight is 0 may only count for fraud), so the explanations stay
readable. Solved by projected Newton steps with an Armijo search along
the projection arc (Bertsekas, "Projected Newton methods for optimization problems with
simple constraints", SIAM J. Control Optim. 20(2), 1982): numpy only, deterministic.

Cross-validation never splits a group of linked accounts: every account of one detected
cluster, of one labelled true ring (``labels.ring_id``) and of one decided ring is joined
(connected components over those memberships), so no ring is on both sides of a split and
no score is judged on a ring the model has seen.

Models are stored in the ``models`` ledger through the audit log, numbered m1, m2, ... in
ledger order; ``load_model`` gives detection the one asked for.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..casework import audit
from ..casework.decisions import current_decisions, decisions
from ..engines import Engine, inprocess
from ..reports.evaluation import roc_auc
from .params import DetectionParams
from .scoring import PRIOR, WEIGHTS, Model, contributions, ring_risk

log = logging.getLogger(__name__)

MODELS = "models"
# How far the labels may pull a weight before the prior pulls back as hard: one log-odds unit.
PRIOR_SD = 1.0
CV_FOLDS, CV_SEED = 5, 0
MAX_STEPS, STEP_TOLERANCE = 100, 1e-10
# A decision's verdict as a label; needs_review labels nothing.
DECISION_LABELS = {"confirmed_fraud": True, "false_positive": False}


def feature_names() -> list[str]:
    """The features the current score weighs (``scoring.WEIGHTS``, whatever they are now)."""
    return list(WEIGHTS)


def design(features: dict[str, float], names: list[str]) -> list[float]:
    """One row of inputs: each feature as ``contributions`` counts it, at unit weight."""
    unit = contributions(features, Model(weights=dict.fromkeys(names, 1.0), bias=0.0, version="unit"))
    return [unit[name] for name in names]


def labelled_accounts(engine: Engine, labels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every labelled account: account_id, fraud (bool), ring_id (its labelled true ring, if any).

    The labels table (or ``labels``: account_id, label, ring_id), with analysts' current
    decisions over it: a confirmed-fraud decision on a ring labels the members it covered
    fraud, a false positive labels them legit; a decision on an account labels that account
    and overrides its ring's; among ring decisions covering one account the latest wins. A
    needs-review decision labels nothing (the labels table's label stands).
    """
    table = engine.labels() if labels is None else labels
    truth = dict(zip(table["account_id"], table["label"].eq("fraud")))
    ring_of = dict(zip(table["account_id"], table["ring_id"] if "ring_id" in table else [None] * len(table)))
    latest = current_decisions(decisions(engine))
    by_ring, own = {}, {}
    if len(latest):
        for target, d in latest.sort_values("seq").iterrows():
            if d["target_kind"] == "ring":
                by_ring.update(dict.fromkeys(d["members"], d["verdict"]))
            else:
                own[target] = d["verdict"]
    out = []
    for account in sorted(set(truth) | set(by_ring) | set(own)):
        verdict = own.get(account, by_ring.get(account))
        label = DECISION_LABELS.get(verdict, truth.get(account))
        if label is not None:
            ring = ring_of.get(account)
            out.append((account, bool(label), ring if isinstance(ring, str) and ring else None))
    return pd.DataFrame(out, columns=["account_id", "fraud", "ring_id"])


@dataclass
class TrainingSet:
    """Labelled accounts of one detection run as rows of the score's inputs.

    ``accounts``: account_id, cluster_id (None outside clusters), fraud, group (the linked
    group cross-validation keeps together); ``x``: one ``design`` row per account;
    ``clusters``: every cluster's features; ``run``: the detection run the rows come from.
    """

    accounts: pd.DataFrame
    x: np.ndarray
    names: list[str]
    clusters: dict[str, dict]
    run: dict

    @property
    def y(self) -> np.ndarray:
        """Each account's label: True for fraud."""
        return self.accounts["fraud"].to_numpy(dtype=bool)

    def scores(self, model: Model) -> np.ndarray:
        """Each account's score under ``model``: its cluster's ring risk, 0 outside clusters (as in detection)."""
        cluster_ids = self.accounts["cluster_id"]
        risk = {c: ring_risk(self.clusters[c], model) for c in cluster_ids.dropna().unique() if c in self.clusters}
        return cluster_ids.map(risk).fillna(0.0).to_numpy(dtype=float)

    def counts(self) -> dict:
        """How many accounts (fraud, legit), linked groups and clusters the rows hold."""
        y = self.y
        return {"accounts": len(y), "fraud": int(y.sum()), "legit": int((~y).sum()),
                "groups": int(self.accounts["group"].nunique()),
                "clusters": int(self.accounts["cluster_id"].nunique())}


def training_set(engine: Engine, labels: pd.DataFrame | None = None, clustered_only: bool = True) -> TrainingSet:
    """The training rows of the last detection run (see the module docstring); refuses what cannot be fitted.

    ``clustered_only=False`` keeps labelled accounts in no cluster too (all-zero features,
    so a score of the bias alone), for judging a model on every account rather than fitting.
    """
    accounts = engine.results("accounts")  # no run yet: the engine says run `ringwatch detect` first
    rings, runs = engine.results("rings"), engine.results("runs")
    labelled = labelled_accounts(engine, labels)
    if labelled.empty:
        raise ValueError("no labelled accounts: load labels with `ringwatch ingest --labels PATH` "
                         "or record analysts' decisions with `ringwatch decide`")
    names = feature_names()
    clusters = _cluster_features(rings, names)
    rows = labelled.merge(accounts[["account_id", "cluster_id"]], on="account_id", how="inner")
    if clustered_only:
        rows = rows[rows["cluster_id"].notna()].copy()
    rows["cluster_id"] = rows["cluster_id"].map(lambda c: str(c) if pd.notna(c) else None)
    if rows.empty:
        raise ValueError("none of the labelled accounts is in a cluster of the last detection run")
    if rows["fraud"].nunique() < 2:
        only = "fraud" if rows["fraud"].iloc[0] else "legit"
        raise ValueError(f"every labelled account is {only}: training needs both fraud and legit labels")
    rows["group"] = linked_groups(_memberships(engine, accounts, rows), rows["account_id"])
    inputs = {c: design(f, names) for c, f in clusters.items()}
    zero = [0.0] * len(names)
    x = np.array([inputs.get(c, zero) if c else zero for c in rows["cluster_id"]], dtype=float).reshape(-1, len(names))
    return TrainingSet(rows.reset_index(drop=True), x, names, clusters, _run_info(runs))


def _cluster_features(rings: pd.DataFrame, names: list[str]) -> dict[str, dict]:
    """Features per cluster id from the stored rings; refuses a run that lacks a feature the score weighs."""
    if rings.empty:
        return {}
    found = {str(c): json.loads(f) if isinstance(f, str) else {}
             for c, f in zip(rings["cluster_id"], rings["features"])}
    missing = sorted({n for feats in found.values() for n in names if n not in feats})
    if missing:
        raise ValueError(f"the last detection run has no {', '.join(missing)} feature: run `ringwatch detect` again")
    return {c: {k: float(np.nan_to_num(v or 0.0)) for k, v in feats.items()} for c, feats in found.items()}


def _run_info(runs: pd.DataFrame) -> dict:
    """The detection run trained on: when it finished, the model that scored it, its ring threshold."""
    last = runs.iloc[-1]
    params = json.loads(last["params"]) if isinstance(last["params"], str) else {}
    return {"finished_at": str(last["finished_at"]), "model": params.get("model", PRIOR.version),
            "ring_threshold": float(params.get("ring_threshold", DetectionParams.ring_threshold))}


def _memberships(engine: Engine, accounts: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """(account_id, key) for every detected cluster, labelled true ring and decided ring an account belongs to."""
    clustered = accounts.dropna(subset=["cluster_id"])
    parts = [pd.DataFrame({"account_id": clustered["account_id"],
                           "key": "cluster:" + clustered["cluster_id"].astype(str)})]
    ringed = rows.dropna(subset=["ring_id"])
    parts.append(pd.DataFrame({"account_id": ringed["account_id"], "key": "ring:" + ringed["ring_id"]}))
    log_frame = decisions(engine)
    for target, members in zip(log_frame["target"], log_frame["members"]):
        if isinstance(members, list) and len(members) > 1:
            parts.append(pd.DataFrame({"account_id": members, "key": f"decided:{target}"}))
    return pd.concat(parts, ignore_index=True)


def linked_groups(memberships: pd.DataFrame, account_ids: pd.Series) -> np.ndarray:
    """Per account, its group: connected components of accounts joined by a shared key, named by the smallest member."""
    edges = pd.DataFrame({"a": "account:" + memberships["account_id"].astype(str),
                          "b": "key:" + memberships["key"].astype(str)})
    component = inprocess.components(edges).set_index("account_id")["group"]
    nodes = "account:" + pd.Series(account_ids.to_numpy()).astype(str)
    roots = nodes.map(component).fillna(nodes)
    return pd.Series(account_ids.to_numpy()).groupby(roots.to_numpy()).transform("min").to_numpy()


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Sample weights that give each class present the same total weight (n / (classes x class size))."""
    y = np.asarray(y, dtype=bool)
    sizes = {c: int((y == c).sum()) for c in (False, True) if (y == c).any()}
    return np.array([len(y) / (len(sizes) * sizes[c]) for c in y], dtype=float)


def fit(x, y, names: list[str], prior: Model = PRIOR, prior_sd: float = PRIOR_SD, sample_weight=None) -> Model:
    """The MAP weights and bias for rows ``x`` (``design`` rows) labelled ``y`` (see the module docstring).

    ``sample_weight`` defaults to ``balanced_weights(y)``; all-zero weights (no
    information) give back the prior.
    """
    y = np.asarray(y, dtype=float)
    a = np.column_stack([np.ones(len(y)), np.asarray(x, dtype=float).reshape(len(y), len(names))])
    centre = np.array([prior.bias, *(prior.weights.get(n, 0.0) for n in names)], dtype=float)
    # A weight keeps its prior's sign; one whose prior is 0 may only grow, since every feature
    # reads 1 as ring-like (``features``). The bias is free.
    sign = np.where(centre < 0, -1.0, 1.0)
    sign[0] = 0.0
    s = balanced_weights(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    strength = 1.0 / prior_sd ** 2

    def project(t):
        return np.where(sign > 0, np.maximum(t, 0.0), np.where(sign < 0, np.minimum(t, 0.0), t))

    def objective(t):
        z = a @ t
        return float(s @ (np.logaddexp(0.0, z) - y * z) + 0.5 * strength * np.sum((t - centre) ** 2))

    theta = project(centre)
    for _ in range(MAX_STEPS):
        p = 0.5 * (1.0 + np.tanh(0.5 * (a @ theta)))  # the logistic, without overflow
        grad = a.T @ (s * (p - y)) + strength * (theta - centre)
        hess = (a.T * (s * p * (1.0 - p))) @ a + strength * np.eye(len(theta))
        # Weights at (or within eps of) zero that the gradient pushes past it are held there
        # with a diagonally scaled step; the rest take the Newton step of their subspace.
        eps = min(1e-6, float(np.max(np.abs(theta - project(theta - grad)))))
        held = (sign != 0) & (sign * theta <= eps) & (sign * grad > 0)
        step = np.where(held, grad / np.diag(hess), 0.0)
        free = ~held
        step[free] = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
        before, t = objective(theta), 1.0
        new = project(theta - step)
        while objective(new) > before + 1e-4 * float(grad @ (new - theta)) and t > 1e-12:
            t /= 2.0
            new = project(theta - t * step)
        moved = float(np.max(np.abs(new - theta)))
        theta = new
        if moved < STEP_TOLERANCE:
            break
    clean = [round(float(v), 6) + 0.0 for v in theta]  # + 0.0: no "-0.0" in stored models
    return Model(weights=dict(zip(names, clean[1:])), bias=clean[0], version="fitted")


def assign_folds(groups, fraud: np.ndarray, k: int, seed: int = CV_SEED) -> np.ndarray:
    """A fold (0..k-1) per row such that no group is split.

    Groups go largest first (a seeded order among equal sizes), each to the fold where its
    own classes are least represented so far, so folds are balanced in fraud and legit.
    """
    frame = pd.DataFrame({"group": np.asarray(groups), "fraud": np.asarray(fraud, dtype=int)})
    table = frame.groupby("group", sort=True)["fraud"].agg(["size", "sum"])
    if len(table) < k:
        raise ValueError(f"{k} folds need at least {k} groups of linked accounts; these labels make {len(table)}")
    counts = np.column_stack([table["sum"], table["size"] - table["sum"]]).astype(float)
    totals = counts.sum(axis=0).clip(min=1.0)
    order = np.lexsort((np.random.default_rng(seed).random(len(table)), -table["size"].to_numpy()))
    load, fold = np.zeros((k, 2)), np.empty(len(table), dtype=int)
    for i in order:
        share = counts[i] / totals
        f = int(np.lexsort((np.arange(k), load.sum(axis=1), load @ (counts[i] / counts[i].sum())))[0])
        fold[i], load[f] = f, load[f] + share
    return frame["group"].map(pd.Series(fold, index=table.index)).to_numpy()


def classification(scores: np.ndarray, fraud: np.ndarray, threshold: float) -> dict:
    """Counts, ROC AUC and precision, recall and F1 of flagging at ``threshold`` (None where undefined)."""
    fraud = np.asarray(fraud, dtype=bool)
    flagged = np.asarray(scores) >= threshold
    tp, fp, fn = int((flagged & fraud).sum()), int((flagged & ~fraud).sum()), int((~flagged & fraud).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    auc = roc_auc(np.asarray(scores, dtype=float), fraud)
    r4 = lambda v: None if v is None or pd.isna(v) else round(float(v), 4)
    return {"accounts": len(fraud), "fraud": int(fraud.sum()), "legit": int((~fraud).sum()), "roc_auc": r4(auc),
            "precision": r4(precision), "recall": r4(recall), "f1": r4(f1)}


def cross_validate(ts: TrainingSet, k: int = CV_FOLDS, seed: int = CV_SEED) -> dict:
    """Grouped k-fold cross-validation of ``fit``: per fold, pooled, and the prior on the same rows."""
    if k < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {k}")
    folds = assign_folds(ts.accounts["group"], ts.y, k, seed)
    threshold, y = ts.run["ring_threshold"], ts.y
    held_out, per_fold = np.zeros(len(y)), []
    for f in range(k):
        test = folds == f
        model = fit(ts.x[~test], y[~test], ts.names)
        held_out[test] = ts.scores(model)[test]
        per_fold.append({"fold": f + 1, "groups": int(ts.accounts.loc[test, "group"].nunique()),
                         **classification(held_out[test], y[test], threshold)})
    return {"folds": k, "seed": seed, "threshold": threshold, "per_fold": per_fold,
            "overall": classification(held_out, y, threshold),
            "prior": classification(ts.scores(PRIOR), y, threshold)}


def cross_validated(engine: Engine, k: int = CV_FOLDS, seed: int = CV_SEED) -> dict:
    """Grouped cross-validated metrics of fitting on the store's labels, nothing stored; also the training counts."""
    ts = training_set(engine)
    return {"counts": ts.counts(), "run": ts.run, "cv": cross_validate(ts, k, seed)}


def train(engine: Engine, analyst: str, k: int = CV_FOLDS, seed: int = CV_SEED) -> dict:
    """Fit on the store's labels, cross-validate (``k`` folds; 0 skips it), store the model; returns the stored row."""
    if not analyst:
        raise ValueError("training needs an analyst: pass --analyst NAME or set RINGWATCH_ANALYST")
    ts = training_set(engine)
    model = fit(ts.x, ts.y, ts.names)
    row = {"weights": model.weights, "bias": model.bias, "trained_at": audit.now_text(), "analyst": analyst,
           "counts": ts.counts(), "cv": cross_validate(ts, k, seed) if k else None, "run": ts.run,
           "prior": {"weights": dict(PRIOR.weights), "bias": PRIOR.bias, "sd": PRIOR_SD}}
    with engine.transaction():
        row = {"version": f"m{len(engine.records(MODELS)) + 1}", **row}
        return audit.record(engine, MODELS, "train", analyst, [row], at=row["trained_at"])[0]


def stored_models(engine: Engine) -> pd.DataFrame:
    """Every stored model in the order trained (the ``models`` ledger)."""
    return engine.records(MODELS)


def load_model(engine: Engine, which: str = "latest") -> Model:
    """The ring score's weights by name: ``latest`` (the latest stored model, else the prior), ``prior``, or a version.

    A feature added since the model was trained takes its prior weight.
    """
    if which == PRIOR.version:
        return PRIOR
    rows = stored_models(engine)
    versions = rows["version"].tolist() if len(rows) else []
    if which == "latest":
        if not versions:
            return PRIOR
        row = rows.iloc[-1]
    elif which in versions:
        row = rows.iloc[versions.index(which)]
    else:
        raise ValueError(f"unknown model {which!r}; choose latest, prior" + "".join(f", {v}" for v in versions))
    stored = row["weights"]
    added = [name for name in PRIOR.weights if name not in stored]
    if added:
        log.warning("model %s predates the features %s: they keep their prior weights", row["version"], added)
    weights = {name: float(stored.get(name, prior)) for name, prior in PRIOR.weights.items()}
    return Model(weights=weights, bias=float(row["bias"]), version=str(row["version"]))
