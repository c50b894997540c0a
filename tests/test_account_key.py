"""Accounts stay unique without a key on the table: a load that repeats an id is refused whole.

The embedded store keeps accounts without a primary key (a key cost half the time of storing
them); uniqueness comes from loading only ids the store lacks, each once. A store made with
the key keeps it and loads the same rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from ringwatch.graph.engines.columns import ACCOUNT_COLUMNS
from ringwatch.graph.engines.embedded.engine import EmbeddedEngine
from ringwatch.graph.engines.errors import EngineError


def _accounts(ids: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: [None] * len(ids) for c in ACCOUNT_COLUMNS})
    frame["account_id"] = ids
    frame["created_at"] = pd.Timestamp("2026-03-01")
    return frame


def _ids(pairs) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["account_id", "kind", "value"])


def test_a_load_that_repeats_an_account_id_is_refused_and_stores_nothing(tmp_path):
    with EmbeddedEngine(tmp_path / "store.duckdb") as engine:
        engine.load_accounts(_accounts(["a0"]), _ids([("a0", "device", "d0")]))
        with pytest.raises(EngineError, match="more than once"), engine.transaction():
            engine.load_accounts(_accounts(["a1", "a2", "a1"]), _ids([("a1", "device", "d1")]))
        assert engine.counts()["accounts"] == 1 and engine.counts()["identifiers"] == 1
        # an id the store holds already may come again: it is a duplicate, not an error
        again = engine.load_accounts(_accounts(["a0", "a0", "a3"]), _ids([("a3", "device", "d3")]))
        assert (again.loaded, again.duplicates) == (1, 2)
        assert engine.accounts()["account_id"].tolist() == ["a0", "a3"]


def test_a_store_made_with_the_account_key_keeps_it_and_loads_alike(tmp_path):
    keyed = tmp_path / "keyed.duckdb"
    with duckdb.connect(str(keyed)) as con:
        columns = ", ".join(f'"{c}" {"TIMESTAMP" if c == "created_at" else "VARCHAR"}' for c in ACCOUNT_COLUMNS)
        con.execute(f"CREATE TABLE accounts ({columns}, PRIMARY KEY (account_id))")
    loaded = {}
    for name, path in (("keyed", keyed), ("plain", tmp_path / "plain.duckdb")):
        with EmbeddedEngine(path) as engine:
            engine.load_accounts(_accounts(["b", "a"]), _ids([("a", "device", "d")]))
            result = engine.load_accounts(_accounts(["a", "c"]), _ids([("c", "device", "d")]))
            loaded[name] = (result, engine.accounts()["account_id"].tolist(), engine.counts())
    with duckdb.connect(str(keyed), read_only=True) as con:
        keys = con.execute("SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'accounts' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchall()[0][0]
    assert keys == 1
    assert loaded["keyed"] == loaded["plain"]
