"""The benchmark's naive pipeline and scoring: the rule it documents, and scores equal to `ringwatch evaluate`'s."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pandas as pd
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports.evaluation import evaluate_against

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


naive, run = _module("naive"), _module("run")


def test_naive_links_values_between_two_accounts_and_the_hub_cap():
    ids = pd.DataFrame({
        "account_id": ["a", "b", "c", "a", "b", "c", "d", "d", "e"],
        "kind": ["payment_id"] * 2 + ["ip"] * 5 + ["email"] * 2,
        "value": ["card", "card", "lone", "hub", "hub", "hub", "hub", "x", "x"],
    })
    links, names = naive.shared(ids, hub_cap=3)
    assert sorted(names[links["account"]]) == ["a", "b", "d", "e"]  # "lone" is one account's, "hub" past the cap
    pairs = naive.edges(pd.concat([links, links.assign(value=links["value"] + 100)]), pair_cap=3, anchors=1)
    found = [(names[s], names[t], w) for s, t, w in zip(pairs["source"], pairs["target"], pairs["weight"])]
    assert sorted(found) == [("a", "b", 2), ("d", "e", 2)]


def test_naive_links_the_holders_of_a_large_value_to_its_first_holders_only():
    links = pd.DataFrame({"account": [4, 3, 2, 1, 4, 3], "value": [7, 7, 7, 7, 8, 8], "kind": "ip"})
    pairs = naive.edges(links, pair_cap=3, anchors=2)
    found = sorted(zip(pairs["source"], pairs["target"], pairs["weight"]))
    # Value 7 (four holders) links each holder to 4 and 3; value 8 (two holders) links its pair.
    assert found == [(1, 3, 1), (1, 4, 1), (2, 3, 1), (2, 4, 1), (3, 4, 2)]


def test_naive_flags_groups_of_three_that_share_a_card_or_device(detected_store, tmp_path):
    signups = detected_store.parent / "data" / "signups.parquet"
    naive.main([str(signups), str(tmp_path / "flagged.csv"), "--seed", "5"])
    flagged = pd.read_csv(tmp_path / "flagged.csv", dtype=str)
    raw = pd.read_parquet(signups)
    assert set(flagged["account_id"]) <= set(raw["account_id"])
    labels = pd.read_parquet(detected_store.parent / "data" / "labels.parquet")
    assert flagged["account_id"].isin(labels.loc[labels["label"] == "fraud", "account_id"]).any()
    for group, members in flagged.groupby("group"):
        assert len(members) >= 3
        held = raw[raw["account_id"].isin(members["account_id"])]
        shared = [held[column].str.strip().dropna().duplicated().any() for column in naive.RULE_KINDS]
        assert any(shared), f"group {group} shares no card or device"


def test_run_scores_flagged_accounts_as_ringwatch_evaluate_does(detected_store, tmp_path):
    data = detected_store.parent / "data"
    store = tmp_path / "store.duckdb"
    shutil.copy(detected_store, store)
    with open_engine("embedded", store) as engine:
        accounts = engine.results("accounts")
        expected = evaluate_against(engine, data / "labels.parquet")
    flagged = accounts[accounts["flagged"].astype(bool)]
    flagged[["account_id", "ring_id"]].rename(columns={"ring_id": "group"}).to_csv(tmp_path / "f.csv", index=False)
    got = run.score(tmp_path / "f.csv", data / "signups.parquet", data / "labels.parquet")
    assert 0 < expected["precision"] < 1 or 0 < expected["recall"] < 1
    for key in ("precision", "recall", "f1", "true_positives", "false_positives", "false_negatives",
                "true_rings_recovered", "flagged_rings"):
        assert got[key] == expected[key], key


def test_a_stages_peak_counts_the_processes_it_starts_and_does_not_wait_for(tmp_path):
    # As PySpark leaves Spark's JVM: the child holds 300 MB, and outlives its parent.
    child = "x = bytearray(300 * 2**20); import time; time.sleep(2)"
    parent = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(1.2)"
    result = run.measure([run.sys.executable, "-c", parent], tmp_path / "logs" / "stage", dict(run.os.environ))
    # (What the stage waited for starts from the memory of the process that started it, pytest here.)
    assert result["sampled_peak_mb"] >= 300
    assert result["peak_mb"] == max(result["sampled_peak_mb"], result["waited_peak_mb"])
