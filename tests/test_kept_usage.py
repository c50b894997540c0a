"""The embedded store keeps what detection read of its clustered accounts (signup rows, identifiers, usage per
bucket), and the pages' questions about ring members read it instead of every row of the store: the same
answers, for as long as the table each copy was read from is unchanged."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from ringwatch.graph.engines.embedded import sql
from ringwatch.graph.engines.embedded.engine import EmbeddedEngine
from ringwatch.graph.load import ingest

KEY = ["account_id", "bucket", "prompt_fingerprint"]
# The detection's own width (30 minutes), the pages' hour and day, and one bucket spanning all time.
DIVIDED = [30, 60, 24 * 60, 200 * 366 * 24 * 60]


@pytest.fixture
def store(detected_store, tmp_path):
    copy = tmp_path / "store.duckdb"
    shutil.copy(detected_store, copy)
    return copy


def _scanned(engine: EmbeddedEngine, ids: list[str], minutes: int) -> pd.DataFrame:
    """The answer summed from every usage row, the kept usage not consulted."""
    return engine._df(sql.MEMBER_USAGE, [minutes], wanted=pd.DataFrame({"account_id": ids}))


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(want)
    pd.testing.assert_frame_equal(got.sort_values(KEY).reset_index(drop=True),
                                  want.sort_values(KEY).reset_index(drop=True))


def _kept(engine: EmbeddedEngine, table: str = "kept_usage") -> bool:
    return bool(engine._run(sql.TABLE_EXISTS, [table]).fetchall()[0][0])


def _covers(engine: EmbeddedEngine, ids: list[str], minutes: int, table: str = "usage") -> bool:
    width = engine._kept_width(table, pd.DataFrame({"account_id": ids}))
    return width is not None and minutes % width == 0


def _members(engine: EmbeddedEngine, rings: int = 3) -> list[str]:
    accounts = engine.results("accounts")
    top = engine.results("rings")["ring_id"].head(rings)
    return sorted(accounts.loc[accounts["ring_id"].isin(top), "account_id"])


def test_detection_keeps_the_usage_of_exactly_its_clustered_accounts_and_the_answers_are_the_same(store):
    with EmbeddedEngine(store) as engine:
        accounts = engine.results("accounts")
        kept = engine._run("SELECT account_id FROM kept_members").df()["account_id"]
        assert sorted(kept) == sorted(accounts.loc[accounts["cluster_id"].notna(), "account_id"])
        members = _members(engine)
        for minutes in DIVIDED:
            assert _covers(engine, members, minutes)
            _same(engine.member_usage(members, minutes), _scanned(engine, members, minutes))
        # A ring's members are held together: the kept rows of one ring span few row groups, not the whole table.
        ring = engine.results("rings")["ring_id"].iloc[0]
        one = accounts.loc[accounts["ring_id"] == ring, "account_id"].tolist()
        span = engine._df("SELECT max(pos) - min(pos) + 1 AS span FROM kept_members a"
                          " SEMI JOIN wanted w USING (account_id)", wanted=pd.DataFrame({"account_id": one}))
        assert span["span"].iloc[0] < 2 * len(one)


def test_an_account_it_does_not_hold_or_a_width_it_does_not_divide_is_asked_of_usage(store):
    with EmbeddedEngine(store) as engine:
        members = _members(engine, rings=1)
        accounts = engine.results("accounts")
        outsider = accounts.loc[accounts["cluster_id"].isna(), "account_id"].iloc[0]
        mixed = [*members, outsider]
        assert not _covers(engine, mixed, 60)
        assert not _covers(engine, members, 45)
        assert not _covers(engine, [], 60)
        _same(engine.member_usage(mixed, 60), _scanned(engine, mixed, 60))
        _same(engine.member_usage(members, 45), _scanned(engine, members, 45))
        assert outsider in set(engine.member_usage(mixed, 60)["account_id"])


def test_any_write_to_usage_lets_the_kept_usage_go(store, tmp_path, monkeypatch):
    with EmbeddedEngine(store) as engine:
        members = _members(engine, rings=1)
        before = engine.member_usage(members, 24 * 60)["requests"].sum()
        row = engine.usage_rows(members[:1]).head(1).drop(columns="request_id").assign(requests=1000)
    path = tmp_path / "more.parquet"
    row.to_parquet(path, index=False)
    in_sql = []
    stored = EmbeddedEngine.load_usage_file
    monkeypatch.setattr(EmbeddedEngine, "load_usage_file", lambda self, plan: in_sql.append(plan) or stored(self, plan))
    with EmbeddedEngine(store) as engine:
        ingest(engine, usage=path)  # a usage file, stored in SQL
        assert in_sql and not _kept(engine)
        after = engine.member_usage(members, 24 * 60)
        assert after["requests"].sum() == before + 1000
        _same(after, _scanned(engine, members, 24 * 60))
    with EmbeddedEngine(store) as engine:  # rows stored one frame at a time, and deleted
        _keep_again(engine, members)
        engine.load_usage(row.assign(requests=5))
        assert not _kept(engine)
        _keep_again(engine, members)
        engine.clear_store()
        assert not _kept(engine)


def _keep_again(engine: EmbeddedEngine, members: list[str]) -> None:
    for _ in engine.member_slices([members], 30):
        pass
    assert _kept(engine) and _covers(engine, members, 60)


def test_detection_stopped_between_slices_leaves_the_last_kept_usage_and_no_stage(store):
    with EmbeddedEngine(store) as engine:
        members = _members(engine)
        before = engine._run("SELECT count(*) FROM kept_usage").fetchall()[0][0]
        reads = engine.member_slices([members[:3], members[3:]], 30)
        next(reads)
        reads.close()  # a run stopped after its first slice
        assert engine._run("SELECT count(*) FROM kept_usage").fetchall()[0][0] == before
        left = engine._run("SELECT table_name FROM information_schema.tables WHERE table_name IN"
                           " ('member_slice', 'slice_usage')").fetchall()
        assert left == []
        _same(engine.member_usage(members, 60), _scanned(engine, members, 60))


@pytest.fixture
def bare(store, tmp_path):
    """The same store without what detection kept: every answer read from the store's own tables."""
    copy = tmp_path / "bare.duckdb"
    shutil.copy(store, copy)
    with EmbeddedEngine(copy) as engine:
        engine._run(sql.DROP_KEPT)
    return copy


def test_ring_members_signup_rows_and_identifiers_are_read_from_what_detection_kept(store, bare):
    with EmbeddedEngine(store) as engine, EmbeddedEngine(bare) as plain:
        members = _members(engine)
        for table in ("accounts", "identifiers", "usage"):
            assert _covers(engine, members, 30, table) and not _covers(plain, members, 30, table)
        pd.testing.assert_frame_equal(engine.accounts(members), plain.accounts(members))
        pd.testing.assert_frame_equal(engine.accounts(members, columns=["email", "created_at"]),
                                      plain.accounts(members, columns=["email", "created_at"]))
        pd.testing.assert_frame_equal(engine.account_identifiers(members), plain.account_identifiers(members))
        _same(engine.member_usage(members, 60), plain.member_usage(members, 60))
        # Raw usage rows are not kept (only their sums per bucket): those come from usage itself.
        pd.testing.assert_frame_equal(engine.usage_rows(members[:2]).sort_values(["account_id", "ts"], ignore_index=True),
                                      plain.usage_rows(members[:2]).sort_values(["account_id", "ts"], ignore_index=True))


def test_a_signup_load_lets_the_kept_signup_rows_and_identifiers_go_and_keeps_the_usage(store, tmp_path):
    with EmbeddedEngine(store) as engine:
        members = _members(engine, rings=1)
        row = engine.accounts(members[:1]).assign(account_id="newcomer-1")
        before, stored = engine.accounts(members), engine.counts()["accounts"]
    path = tmp_path / "signups.parquet"
    row.to_parquet(path, index=False)
    with EmbeddedEngine(store) as engine:
        ingest(engine, signups=path)
        assert engine.counts()["accounts"] == stored + 1
        assert not _kept(engine, "kept_accounts") and not _kept(engine, "kept_identifiers")
        assert _kept(engine, "kept_usage") and _covers(engine, members, 60)
        pd.testing.assert_frame_equal(engine.accounts(members), before)
        assert engine.accounts(["newcomer-1"])["account_id"].tolist() == ["newcomer-1"]
