"""Engine contract for value_accounts: who holds these identifier values (every engine)."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_params import NEO4J, SPARK, engine_name
from ringwatch.graph.engines import open_engine

ENGINES = ["embedded", NEO4J, SPARK]
COLS = ["account_id", "created_at", "email", "email_domain", "phone", "ip", "ip_net", "device_id",
        "user_agent", "payment_id", "country", "org_id", "attributes"]


@pytest.fixture(params=ENGINES)
def loaded(request, tmp_path, monkeypatch):
    with open_engine(engine_name(request.param, monkeypatch), tmp_path / "values.duckdb") as engine:
        if engine.name == "neo4j":
            engine.clear_store()  # a shared server: every test starts from an empty store
        ids = ["a0", "a1", "a2", "a3"]
        accounts = pd.DataFrame({c: [None] * 4 for c in COLS}).assign(
            account_id=ids, created_at=pd.Timestamp("2026-01-01"))
        engine.load_accounts(accounts, pd.DataFrame([
            ("a2", "payment", "card1"), ("a0", "payment", "card1"), ("a1", "payment", "card2"),
            ("a3", "device", "card1"), ("a1", "device", "d1"),
        ], columns=["account_id", "kind", "value"]))
        yield engine


def test_value_accounts_matches_kind_and_value_in_order(loaded):
    wanted = pd.DataFrame({"kind": ["payment", "device", "payment"], "value": ["card1", "d1", "card1"]})
    got = loaded.value_accounts(wanted)
    # the device "card1" held by a3 is another kind: not a match; duplicates in the query are ignored
    assert list(got.itertuples(index=False, name=None)) == [
        ("a1", "device", "d1", 1), ("a0", "payment", "card1", 2), ("a2", "payment", "card1", 2)]


def test_value_accounts_respects_the_limit_and_unknown_values(loaded):
    wanted = pd.DataFrame({"kind": ["payment", "payment"], "value": ["card1", "card2"]})
    assert loaded.value_accounts(wanted, limit=2)["account_id"].tolist() == ["a0", "a2"]
    # per_value keeps the lowest ids of each value, while holders still counts them all
    capped = loaded.value_accounts(wanted, per_value=1)
    assert capped[["account_id", "value", "holders"]].values.tolist() == [["a0", "card1", 2], ["a1", "card2", 1]]
    none = loaded.value_accounts(pd.DataFrame({"kind": ["phone"], "value": ["+1"]}))
    assert none.empty and list(none.columns) == ["account_id", "kind", "value", "holders"]
