"""Learning the ring score from labels: the fit, grouped cross-validation, stored models and the commands.

Nothing here depends on which features detection computes: feature names come from
``scoring.WEIGHTS``, hand-made stores carry made-up feature values for every one of them,
and the command-line checks compare a run's scores with the model it names.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from ringwatch.graph.casework import audit
from ringwatch.graph.casework.decisions import decide
from ringwatch.graph.demo.pipeline import ingest_files
from ringwatch.graph.detection.scoring import PRIOR, WEIGHTS, ring_risk
from ringwatch.graph.detection.training import (
    MODELS,
    assign_folds,
    balanced_weights,
    cross_validate,
    feature_names,
    fit,
    labelled_accounts,
    load_model,
    stored_models,
    train,
    training_set,
)
from ringwatch.graph.engines import EngineError, open_engine

from ringwatch.cli import main

NAMES = feature_names()


def _synthetic(n: int, true_weights: dict, bias: float, seed: int = 0):
    """Design rows uniform in [0, 1] and labels drawn from a logistic with these weights (``bias`` at x = 0.5)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, len(NAMES)))
    z = bias + (x - 0.5) @ np.array([true_weights.get(name, 0.0) for name in NAMES])
    return x, rng.random(n) < 1.0 / (1.0 + np.exp(-z))


def _kkt_holds(x, y, model) -> bool:
    """The fit is optimal: zero gradient where a weight is free, pointing past zero where it is held there.

    "Zero" allows for the stored rounding (6 decimals): at most n/4 x columns x 5e-7 per coordinate.
    """
    a = np.column_stack([np.ones(len(y)), x])
    theta = np.array([model.bias, *(model.weights[n] for n in NAMES)])
    centre = np.array([PRIOR.bias, *(PRIOR.weights[n] for n in NAMES)])
    p = 1.0 / (1.0 + np.exp(-(a @ theta)))
    grad = a.T @ (balanced_weights(y) * (p - y)) + (theta - centre)
    sign = np.where(centre < 0, -1.0, 1.0)
    sign[0] = 0.0
    held = (sign != 0) & (theta == 0)
    tol = len(y) / 4 * a.shape[1] * 5e-7
    return bool(np.all(np.abs(grad[~held]) <= tol) and np.all(sign[held] * grad[held] >= -tol))


def test_fitting_recovers_a_known_direction():
    signal = max(NAMES, key=lambda n: (WEIGHTS[n] >= 0, -abs(WEIGHTS[n])))  # a fraud-side feature
    truth = {signal: WEIGHTS[signal] + 6.0}
    x, y = _synthetic(6000, truth, bias=-1.0)
    model = fit(x, y, NAMES)
    assert model.weights[signal] > WEIGHTS[signal] + 3.0
    assert all(abs(model.weights[n]) < 0.6 for n in NAMES if n != signal)
    assert _kkt_holds(x, y.astype(float), model)


def test_weights_keep_their_prior_sign():
    # Every feature points the other way from its prior: the fit stops each weight at zero.
    truth = {n: -3.0 if WEIGHTS[n] >= 0 else 3.0 for n in NAMES}
    x, y = _synthetic(4000, truth, bias=0.0, seed=1)
    model = fit(x, y, NAMES)
    for name in NAMES:
        assert model.weights[name] * (1 if WEIGHTS[name] >= 0 else -1) >= 0.0, name
    assert all(model.weights[n] == 0.0 for n in NAMES)
    assert _kkt_holds(x, y.astype(float), model)


def test_without_label_information_the_fit_is_the_prior():
    empty = fit(np.zeros((0, len(NAMES))), np.zeros(0, dtype=bool), NAMES)
    x, y = _synthetic(500, {NAMES[0]: 5.0}, bias=-1.0)
    unweighted = fit(x, y, NAMES, sample_weight=np.zeros(len(y)))
    for model in (empty, unweighted):
        assert model.weights == pytest.approx(WEIGHTS, abs=1e-9) and model.bias == pytest.approx(PRIOR.bias)
    # Few labels pull the weights less far from the priors than many do.
    distance = lambda m: np.abs(np.array([m.weights[n] - WEIGHTS[n] for n in NAMES])).sum()
    truth = {n: 1.0 for n in NAMES}
    assert distance(fit(*_synthetic(12, truth, -2.0), NAMES)) < distance(fit(*_synthetic(3000, truth, -2.0), NAMES))


def test_the_fit_is_deterministic():
    x, y = _synthetic(2000, {n: 1.5 for n in NAMES[:3]}, bias=-2.0, seed=4)
    first, second = fit(x, y, NAMES), fit(x.copy(), y.copy(), NAMES)
    assert json.dumps(first.weights) == json.dumps(second.weights) and first.bias == second.bias


# -- hand-made stores -----------------------------------------------------------------------

RINGLIKE = {n: (0.0 if WEIGHTS[n] < 0 else 0.9) for n in NAMES}
ORDINARY = {n: (0.8 if WEIGHTS[n] < 0 else 0.1) for n in NAMES}
FRAUD = [f"f{i:02d}" for i in range(1, 13)]
LEGIT = [f"g{i:02d}" for i in range(1, 31)]
TRUE_RINGS = {"T1": FRAUD[:6], "T2": FRAUD[6:9]}
# Run 1 finds X, which an analyst marks a false positive; run 2 (the stored one) finds the rest.
RUN1 = {"X": (["g05", "g06", "g07"], ORDINARY)}
RUN2 = {"C1": (FRAUD[:3], RINGLIKE), "C2": (FRAUD[3:6] + ["g01"], RINGLIKE), "C3": (FRAUD[6:8], RINGLIKE),
        "C4": (["g02", "g03", "g04"], ORDINARY), "C5": (["g05", "g08", "g09"], ORDINARY)}
# What grouped cross-validation must never split: clusters of both runs, true rings.
KEPT_TOGETHER = [m for m, _ in (*RUN1.values(), *RUN2.values())] + list(TRUE_RINGS.values())


def _results(clusters: dict, features=None) -> dict[str, pd.DataFrame]:
    """Result tables of a made-up run with these clusters (cluster id -> members, features)."""
    of = {a: c for c, (members, _) in clusters.items() for a in members}
    ids = sorted(FRAUD + LEGIT)
    rings = pd.DataFrame([{"cluster_id": c, "ring_id": f"R-{c}", "size": len(m), "risk_score": ring_risk(f),
                           "flagged": ring_risk(f) >= 0.5, "features": json.dumps(features or f)}
                          for c, (m, f) in clusters.items()])
    risk = rings.set_index("cluster_id")["risk_score"]
    accounts = pd.DataFrame({"account_id": ids, "cluster_id": [of.get(a) for a in ids]})
    accounts["ring_id"] = accounts["cluster_id"].map(lambda c: f"R-{c}" if c else None)
    accounts["risk_score"] = accounts["cluster_id"].map(risk).fillna(0.0)
    accounts["flagged"], accounts["reasons"] = accounts["risk_score"] >= 0.5, ""
    runs = pd.DataFrame([{"finished_at": pd.Timestamp("2026-01-02"),
                          "params": json.dumps({"ring_threshold": 0.5, "model": "prior"})}])
    return {"accounts": accounts, "rings": rings, "runs": runs}


def _store(tmp_path, labels: list[tuple] | None = None, decided: bool = True) -> str:
    """A store of the hand-made accounts and labels, with run 1, a decision, and run 2 stored."""
    db = str(tmp_path / "hand.duckdb")
    signups = tmp_path / "signups.csv"
    pd.DataFrame({"account_id": FRAUD + LEGIT, "created_at": "2026-01-01T00:00:00"}).to_csv(signups, index=False)
    ring_of = {a: r for r, members in TRUE_RINGS.items() for a in members}
    labels = labels if labels is not None else (
        [(a, "fraud", ring_of.get(a, "")) for a in FRAUD] + [(a, "legit", "") for a in LEGIT if a != "g06"])
    files = {"signups": str(signups)}
    if labels:
        pd.DataFrame(labels, columns=["account_id", "label", "ring_id"]).to_csv(tmp_path / "labels.csv", index=False)
        files["labels"] = str(tmp_path / "labels.csv")
    ingest_files("embedded", db, **files, quarantine=str(tmp_path / "q.csv"))
    with open_engine("embedded", db) as engine:
        engine.save_results(_results(RUN1))
        if decided:
            decide(engine, "R-X", "false_positive", "ann", at="2026-01-01T12:00:00Z")
        engine.save_results(_results(RUN2))
    return db


def test_grouped_folds_never_split_a_cluster_or_a_ring(tmp_path):
    db = _store(tmp_path)
    with open_engine("embedded", db) as engine:
        ts = training_set(engine)
    rows = ts.accounts.set_index("account_id")
    # A true ring split across two clusters joins them, and with a legitimate member of one.
    assert rows.loc[FRAUD[:6] + ["g01"], "group"].nunique() == 1
    # decided ring + later cluster (g06 and g07 are in no cluster: the ring score has nothing to weigh for them)
    assert "g06" not in rows.index and "g07" not in rows.index
    assert rows.loc[["g05", "g08", "g09"], "group"].nunique() == 1
    for k in (2, 3, 4):
        for seed in range(4):
            fold = pd.Series(assign_folds(ts.accounts["group"], ts.y, k, seed), index=ts.accounts["account_id"])
            assert fold.nunique() == k
            for members in KEPT_TOGETHER:
                assert fold[[a for a in members if a in fold.index]].nunique() == 1, (k, seed, members)
    report = cross_validate(ts, 3)
    fold = assign_folds(ts.accounts["group"], ts.y, 3, 0)
    assert [f["accounts"] for f in report["per_fold"]] == [int((fold == f).sum()) for f in range(3)]
    assert report["overall"]["accounts"] == len(ts.accounts)


def test_labels_follow_the_latest_decisions(tmp_path):
    db = _store(tmp_path)
    with open_engine("embedded", db) as engine:
        for target, verdict in (("g04", "confirmed_fraud"), ("R-C4", "false_positive"),
                                ("f09", "false_positive"), ("f09", "needs_review")):
            decide(engine, target, verdict, "bob")
        fraud = labelled_accounts(engine).set_index("account_id")["fraud"]
    assert not fraud["g06"]  # unlabelled, but in the ring decided a false positive
    assert fraud["g04"]  # its own decision overrides its ring's later one
    assert not fraud["g03"]
    assert fraud["f09"]  # the latest decision needs review: the label stands


def test_training_refuses_what_cannot_be_fitted(tmp_path):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    db = str(fresh / "s.duckdb")
    pd.DataFrame({"account_id": ["a"], "created_at": ["2026-01-01"]}).to_csv(fresh / "s.csv", index=False)
    ingest_files("embedded", db, signups=str(fresh / "s.csv"), quarantine=str(fresh / "q.csv"))
    with open_engine("embedded", db) as engine, pytest.raises(EngineError, match="ringwatch detect"):
        training_set(engine)
    for case, labels, message in (("none", [], "no labelled accounts"),
                                  ("one", [(a, "legit", "") for a in LEGIT], "both fraud and legit")):
        folder = tmp_path / case
        folder.mkdir()
        with open_engine("embedded", _store(folder, labels, decided=False)) as engine, \
                pytest.raises(ValueError, match=message):
            training_set(engine)
    with open_engine("embedded", _store(tmp_path)) as engine:
        old = {n: v for n, v in RINGLIKE.items() if n != NAMES[-1]}
        engine.save_results(_results(RUN2, features=old))
        with pytest.raises(ValueError, match="run `ringwatch detect` again"):
            training_set(engine)


def test_models_are_stored_versioned_audited_and_loaded(tmp_path):
    with open_engine("embedded", _store(tmp_path)) as engine:
        assert load_model(engine, "latest") is PRIOR
        first, second = train(engine, "ann", k=2), train(engine, "ann", k=2)
        assert (first["version"], second["version"]) == ("m1", "m2")
        assert json.dumps(first["weights"]) == json.dumps(second["weights"]) and first["cv"] == second["cv"]
        assert stored_models(engine)["version"].tolist() == ["m1", "m2"]
        m1 = load_model(engine, "m1")
        assert (m1.weights, m1.bias, m1.version) == (first["weights"], first["bias"], "m1")
        assert load_model(engine, "latest").version == "m2" and load_model(engine, "prior") is PRIOR
        with pytest.raises(ValueError, match="m1, m2"):
            load_model(engine, "m9")
        entries = engine.records("audit")
        assert entries[["action", "ledger", "analyst"]].iloc[-1].tolist() == ["train", MODELS, "ann"]
        assert audit.verify(engine).ok
        # A model trained before a feature existed scores that feature with its prior weight.
        older = {k: v for k, v in first["weights"].items() if k != NAMES[-1]}
        audit.record(engine, MODELS, "train", "ann", [{**first, "version": "m3", "weights": older}])
        assert load_model(engine, "m3").weights[NAMES[-1]] == WEIGHTS[NAMES[-1]]


# -- the command line on a small generated store --------------------------------------------------


def _run(args, env=None, code=0):
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("learn")
    _run(["generate", "--out", str(out / "data"), "--accounts", "1500", "--seed", "5"])
    db = str(out / "rw.duckdb")
    files = {kind: str(out / "data" / f"{kind}.parquet") for kind in ("signups", "usage", "labels")}
    _run(["ingest", "--db", db, *(a for kind, path in files.items() for a in (f"--{kind}", path))])
    _run(["detect", "--db", db])
    return db


def _scored_with(db) -> str:
    """The model the stored run names; checks every ring's score is that model's."""
    with open_engine("embedded", db) as engine:
        version = json.loads(engine.results("runs")["params"].iloc[-1])["model"]
        model = load_model(engine, version)
        rings = engine.results("rings")
    assert len(rings)
    assert all(ring_risk(json.loads(f), model) == r for f, r in zip(rings["features"], rings["risk_score"]))
    return version


def test_train_and_detect_with_a_model_from_the_command_line(demo_store):
    db = demo_store
    assert "--analyst" in _run(["train", "--db", db], code=1)
    report = _run(["evaluate", "--db", db, "--cv", "3"])
    assert "cross-validation: 3 folds" in report and "all (prior)" in report
    with open_engine("embedded", db) as engine:
        assert stored_models(engine).empty
    trained = _run(["train", "--db", db, "--cv", "3", "--analyst", "ann"])
    assert "stored model m1" in trained and all(name in trained for name in NAMES)
    assert _scored_with(db) == "prior"  # the run before training
    _run(["detect", "--db", db])
    assert _scored_with(db) == "m1"
    _run(["detect", "--db", db, "--model", "prior"])
    assert _scored_with(db) == "prior"
    _run(["detect", "--db", db], env={"RINGWATCH_MODEL": "m1"})
    assert _scored_with(db) == "m1"
    assert "m1" in _run(["detect", "--db", db, "--model", "m7"], code=1)
    assert "audit log intact: 1 entries" in _run(["audit", "verify", "--db", db])
