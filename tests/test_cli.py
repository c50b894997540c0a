"""The command line end to end on generated data with ground truth."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ringwatch.cli import main
from ringwatch.graph.engines import open_engine

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands(group, prefix=""):
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, f"{full} ")
        else:
            yield full, cmd


@pytest.mark.parametrize("name,cmd", list(_commands(main)), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help_with_an_example_and_is_in_the_readme(name, cmd):
    result = CliRunner().invoke(main, name.split() + ["--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert f"ringwatch {name}" in README


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenario")
    result = CliRunner().invoke(main, ["generate", "--out", str(out), "--accounts", "3000", "--seed", "11"])
    assert result.exit_code == 0, result.output
    return out


def _paths(out):
    found = {p.name.split(".")[0]: p for p in out.iterdir()}
    return found["signups"], found["usage"], found["labels"]


def _run(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def detected(scenario, tmp_path_factory):
    signups, usage, labels = _paths(scenario)
    db = str(tmp_path_factory.mktemp("store") / "rw.duckdb")
    first = _run(["ingest", "--db", db, "--signups", str(signups), "--usage", str(usage), "--labels", str(labels)])
    second = _run(["ingest", "--db", db, "--signups", str(signups), "--usage", str(usage)])
    _run(["detect", "--db", db, "--seed", "3"])
    return db, first, second


def test_ingest_twice_changes_nothing(detected):
    _, first, second = detected
    store = lambda text: re.search(r"store now holds: (.*)", text).group(1)
    assert store(first).split(", quarantined")[0] == store(second).split(", quarantined")[0]
    assert "quarantined rows written" in first


def test_exports_follow_the_contract_and_reasons_are_never_empty(detected, tmp_path):
    db, _, _ = detected
    for what in ("accounts", "rings", "bans"):
        _run(["export", what, "--db", db, "--out", str(tmp_path / f"{what}.csv")]
             + (["--analyst", "ann"] if what == "bans" else []))
    accounts = list(csv.DictReader(open(tmp_path / "accounts.csv", newline="")))
    rings = list(csv.DictReader(open(tmp_path / "rings.csv", newline="")))
    bans = list(csv.DictReader(open(tmp_path / "bans.csv", newline="")))
    assert list(accounts[0]) == ["account_id", "ring_id", "risk_score", "flagged", "reasons"]
    assert list(rings[0]) == ["ring_id", "size", "risk_score", "first_seen", "last_seen", "top_evidence"]
    assert list(bans[0]) == ["account_id", "ring_id", "risk_score", "reasons"]
    flagged = [a for a in accounts if a["flagged"] == "true"]
    assert flagged and all(a["reasons"] and a["ring_id"] for a in flagged)
    assert {b["account_id"] for b in bans} == {a["account_id"] for a in flagged}
    assert all(0.0 <= float(a["risk_score"]) <= 1.0 for a in accounts)
    assert all(r["top_evidence"] for r in rings)
    assert {r["ring_id"] for r in rings} == {a["ring_id"] for a in flagged}


def test_detection_quality_against_ground_truth(detected, scenario):
    db, _, _ = detected
    _, _, labels = _paths(scenario)
    out = _run(["evaluate", "--db", db, "--labels", str(labels)])
    metric = lambda name: float(re.search(rf"^{name}\s+(\S+)", out, re.M).group(1))
    assert metric("precision") >= 0.9
    assert metric("recall") >= 0.8
    assert metric("roc_auc") >= 0.9


def test_same_input_and_seed_give_the_same_rings_and_ids(detected, scenario, tmp_path):
    db, _, _ = detected
    signups, usage, _ = _paths(scenario)
    other = str(tmp_path / "again.duckdb")
    _run(["ingest", "--db", other, "--signups", str(signups), "--usage", str(usage)])
    _run(["detect", "--db", other, "--seed", "3"])
    for store, name in ((db, "a.csv"), (other, "b.csv")):
        _run(["export", "accounts", "--db", store, "--out", str(tmp_path / name)])
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_errors_are_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["ingest", "--db", str(tmp_path / "x.duckdb"), "--signups", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.startswith("Error:") and "nope.csv" in result.output
    bad = tmp_path / "signups.csv"
    bad.write_text("id,created_at\n1,2026-01-01\n")
    result = CliRunner().invoke(main, ["ingest", "--db", str(tmp_path / "x.duckdb"), "--signups", str(bad)])
    assert result.exit_code == 1 and "account_id" in result.output and "signups.csv" in result.output
    result = CliRunner().invoke(main, ["export", "rings", "--db", str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 1 and "empty.duckdb does not exist" in result.output
    open_engine("embedded", tmp_path / "empty.duckdb").close()
    result = CliRunner().invoke(main, ["export", "rings", "--db", str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 1 and "ringwatch detect" in result.output


def test_every_setting_is_in_the_readme():
    from ringwatch.settings import SETTINGS

    settings = README[README.index("## Settings"):README.index("## Data contract")]
    for setting in SETTINGS.values():
        assert f"| `{setting.env}` |" in settings and setting.help in settings, setting.env
