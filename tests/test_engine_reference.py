"""Every engine's own answers (SQL, Cypher, GDS) equal the reference rules, on random stores.

The link rule, co-activity and the usage sums are declared once, in plain pandas
(``engines.policy``, ``engines.usage``). Here each engine loads a random store and its
answers are compared with the reference computed from the very frames it loaded, so an
engine's translation of a rule cannot drift from the rule. Stores are small but built to
hit every branch: values shared by one, a few, more than ``pair_cap`` and more than
``hub_cap`` accounts; templates used by everyone; accounts below the degree cutoff.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from engine_params import NEO4J, NEO4J_GDS, SPARK, engine_name
from ringwatch.graph.engines import (
    LinkPolicy,
    SimilarityPolicy,
    open_engine,
    policy,
    usage,
)
from ringwatch.graph.engines.columns import ACCOUNT_COLUMNS, USAGE_COLUMNS

ENGINES = ["embedded", "memory", NEO4J, SPARK]
SEEDS = [0, 1, 2]
KINDS = pd.DataFrame({"kind": ["payment", "device", "ip", "custom:ssn", "prompt", "request_ip"],
                      "family": ["payment", "device", "network", "custom:ssn", "behaviour", "network"],
                      "weight": [1.0, 1.0, 0.6, 1.0, 0.5, 0.35]})


def random_store(seed: int, n: int = 80):
    """Accounts, their identifiers and usage, with skewed value pools (a few values are shared widely)."""
    rng = np.random.default_rng(seed)
    ids = [f"acct{i:03d}" for i in rng.permutation(n)]
    accounts = pd.DataFrame({c: [None] * n for c in ACCOUNT_COLUMNS})
    accounts["account_id"] = ids
    accounts["created_at"] = pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.integers(0, 72, n), unit="h")
    pools = {"payment": 30, "device": 40, "ip": 6, "custom:ssn": 50}
    rows = []
    for kind, size in pools.items():
        holders = rng.random(n) < 0.8
        # Zipf-like draws: value 0 is shared by many accounts, the tail by few or one.
        values = np.minimum(rng.zipf(1.6, n), size) - 1
        rows += [(a, kind, f"{kind}-{v}") for a, v, h in zip(ids, values, holders) if h]
    identifiers = pd.DataFrame(rows, columns=["account_id", "kind", "value"]).drop_duplicates()
    m = 900
    use = pd.DataFrame({c: [None] * m for c in USAGE_COLUMNS})
    use["account_id"] = rng.choice(ids[: n - 5], m)  # five accounts send nothing
    use["ts"] = pd.Timestamp("2026-11-02") + pd.to_timedelta(rng.integers(0, 6 * 60, m), unit="min")
    use["ip"] = [f"10.0.0.{v}" if v < 8 else None for v in rng.integers(0, 10, m)]
    use["prompt_fingerprint"] = [None if v == 0 else f"fp{v}" for v in np.minimum(rng.zipf(1.4, m), 25) - 1]
    use["requests"] = rng.integers(1, 5, m)
    use["input_tokens"] = rng.integers(10, 100, m)
    use["output_tokens"] = rng.integers(10, 400, m)
    return accounts, identifiers, use.astype({"requests": "int64", "input_tokens": "int64", "output_tokens": "int64"})


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path, monkeypatch):
    if request.param == "memory":
        request.getfixturevalue("memory_engine")
    with open_engine(engine_name(request.param, monkeypatch), tmp_path / "reference.duckdb") as eng:
        eng.clear_store()
        yield eng


def _load(engine, seed):
    accounts, identifiers, use = random_store(seed)
    engine.load_accounts(accounts, identifiers)
    engine.load_usage(use)
    numbers = pd.Series(np.arange(len(accounts)), index=sorted(accounts["account_id"]))
    return accounts, identifiers, use, numbers


def _same(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str], approx: tuple[str, ...] = ()):
    assert len(got) == len(expected)
    got = got.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    for column in expected.columns:
        left, right = got[column], expected[column]
        if column in approx:
            assert left.to_numpy(float) == pytest.approx(right.to_numpy(float)), column
        elif pd.api.types.is_numeric_dtype(right):  # engines may sum integers as floats
            assert pd.to_numeric(left).tolist() == pd.to_numeric(right).tolist(), column
        elif pd.api.types.is_datetime64_any_dtype(right):
            assert pd.to_datetime(left).tolist() == pd.to_datetime(right).tolist(), column
        else:
            assert left.astype(str).tolist() == right.astype(str).tolist(), column


@pytest.mark.parametrize("seed", SEEDS)
def test_pair_evidence_follows_the_link_rule(engine, seed):
    accounts, identifiers, use, numbers = _load(engine, seed)
    links = policy.links(identifiers, use, numbers)
    keep = pd.DataFrame({"a": np.array([0, 1, 2], dtype="int32"), "b": np.array([5, 40, 79], dtype="int32")})
    # Behaviour links alone at 1.0 and a payment instrument at 0.5 (a personal-class bar).
    kinds = KINDS.assign(alone=KINDS["family"].map({"behaviour": 1.0, "payment": 0.5}))
    for min_total, keep_score in ((0.3, np.inf), (1.2, np.inf), (1.2, 0.6)):
        rule = LinkPolicy(kinds=kinds, hub_cap=25, pair_cap=8, anchors=3, total_accounts=len(accounts),
                          min_total=min_total, keep_score=keep_score)
        for asked in (None, keep):
            expected = policy.pair_evidence(links, rule, asked)
            assert len(expected) >= (100 if min_total < 1 else 3)  # the random store exercises the rule
            if keep_score < 1:  # pairs one family keeps, beyond those the link rule keeps
                assert len(expected) > len(policy.pair_evidence(links, replace(rule, keep_score=np.inf), asked))
            _same(engine.pair_evidence(rule, keep_pairs=asked), expected, ["a", "b", "family"], approx=("score",))


@pytest.mark.neo4j
def test_neo4j_pair_evidence_in_pieces_is_the_whole(tmp_path, monkeypatch, caplog):
    # A piece of 40 candidate pairs splits the random store's pairs into many server queries.
    monkeypatch.setenv("RINGWATCH_NEO4J_PAIR_PIECE", "40")
    with open_engine(engine_name("neo4j", monkeypatch), tmp_path / "unused.duckdb") as eng:
        eng.clear_store()
        accounts, identifiers, use, numbers = _load(eng, 0)
        links = policy.links(identifiers, use, numbers)
        rule = LinkPolicy(kinds=KINDS, hub_cap=25, pair_cap=8, anchors=3, total_accounts=len(accounts), min_total=0.3)
        n = policy.degrees(links.merge(KINDS[["kind"]]))["accounts"]
        n = n[(n >= 2) & (n <= rule.hub_cap)]
        heads = np.where(n <= rule.pair_cap, n, rule.anchors)
        candidates = int((heads * (n - 1) - heads * (heads - 1) // 2).sum())
        with caplog.at_level("INFO", logger="ringwatch.graph.engines.neo4j.engine"):
            got = eng.pair_evidence(rule)
    assert f"grouping {candidates} candidate pairs in {-(-candidates // 40)} pieces" in caplog.text
    assert candidates > 400
    expected = policy.pair_evidence(links, rule)
    assert got[["a", "b", "family"]].equals(expected[["a", "b", "family"]])  # in the same order
    _same(got, expected, ["a", "b", "family"], approx=("score",))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("engine", [*ENGINES, NEO4J_GDS], indirect=True)
def test_node_similarity_follows_the_coactivity_rule(engine, seed):
    _, _, use, numbers = _load(engine, seed)
    rows = use.assign(idx=use["account_id"].map(numbers))
    for rule in (SimilarityPolicy(bucket_minutes=30, max_template_accounts=40, top_k=3, cutoff=0.05, degree_cutoff=3),
                 SimilarityPolicy(bucket_minutes=60, max_template_accounts=1000, top_k=50, cutoff=0.0,
                                  degree_cutoff=1)):
        expected = policy.node_similarity(rows, rule)
        assert len(expected) > 10
        _same(engine.node_similarity(rule), expected, ["a", "b"], approx=("similarity",))


@pytest.mark.parametrize("seed", SEEDS)
def test_degrees_and_usage_sums_follow_the_reference(engine, seed):
    _, identifiers, use, numbers = _load(engine, seed)
    degrees = policy.degrees(policy.links(identifiers, use, numbers))
    _same(engine.identifier_degrees(min_accounts=3), degrees[degrees["accounts"] >= 3], ["kind", "value"])
    asked = pd.concat([degrees.head(7)[["kind", "value"]], pd.DataFrame({"kind": ["payment"], "value": ["none"]})])
    expected = asked.merge(degrees, how="left").fillna({"accounts": 0}).astype({"accounts": "int64"})
    _same(engine.value_degrees(asked), expected, ["kind", "value"])
    _same(engine.degree_histogram(), policy.degree_histogram(policy.links(identifiers, use, numbers)),
          ["kind", "accounts"])
    _same(engine.usage_summary(), usage.per_account(use), ["account_id"])
    _same(engine.prompt_summary(), usage.per_prompt(use), ["prompt_fingerprint"])
    some = sorted(use["account_id"].unique())[:9]
    _same(engine.member_usage(some, 30), usage.per_bucket(use[use["account_id"].isin(some)], 30),
          ["account_id", "bucket", "prompt_fingerprint"])
    groups = pd.DataFrame({"account_id": some, "group": ["x"] * 4 + ["y"] * 5})
    origin = pd.Timestamp("2026-11-02 01:07")
    _same(engine.usage_by_group(groups, 45, origin), usage.per_group(use, groups, 45, origin), ["group", "bucket"])


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_template_of_one_account_is_activity_of_its_own(engine):
    # A template nobody else uses pairs with nothing, yet it is its account's activity: two of
    # them in one time bucket are two (template, bucket) rows, which the degree cutoff counts.
    _, _, use, numbers = _load(engine, 0)
    rows = use.assign(idx=use["account_id"].map(numbers))
    loose = SimilarityPolicy(bucket_minutes=60, max_template_accounts=1000, top_k=50, cutoff=0.0, degree_cutoff=1)
    a, b = policy.node_similarity(rows, loose)[["a", "b"]].iloc[0]
    ids = {numbers[k]: k for k in numbers.index}
    active = rows.dropna(subset=["prompt_fingerprint"])
    count = active.assign(bucket=active["ts"].dt.floor("60min")).drop_duplicates(["idx", "prompt_fingerprint", "bucket"])
    least = int(count["idx"].value_counts()[[a, b]].min())
    own = []
    for x in (a, b):  # two templates of its own, at the time of one of its requests
        first = use[use["account_id"] == ids[x]].head(1)
        own.append(pd.concat([first] * 2, ignore_index=True).assign(
            prompt_fingerprint=[f"own-{x}-1", f"own-{x}-2"], request_id=[f"r-own-{x}-1", f"r-own-{x}-2"]))
    own = pd.concat(own, ignore_index=True)
    assert engine.load_usage(own).loaded == 4
    rule = replace(loose, degree_cutoff=least + 2)
    expected = policy.node_similarity(pd.concat([rows, own.assign(idx=own["account_id"].map(numbers))]), rule)
    assert ((expected["a"] == a) & (expected["b"] == b)).any()
    _same(engine.node_similarity(rule), expected, ["a", "b"], approx=("similarity",))


def test_the_value_table_keeps_only_shared_values(tmp_path):
    # One account's own values (most of a store's) link nothing: the embedded engine's value table
    # does not hold them, and what is asked of them is answered all the same.
    with open_engine("embedded", tmp_path / "values.duckdb") as engine:
        _, identifiers, use, numbers = _load(engine, 1)
        engine.identifier_degrees()
        kept = engine._df("SELECT min(n) AS least, count(*) AS n FROM value_degree")
        links = policy.links(identifiers, use, numbers)
        degrees = policy.degrees(links)
        assert kept["least"][0] == 2 and kept["n"][0] == (degrees["accounts"] >= 2).sum()
        assert (degrees["accounts"] == 1).sum() >= 10
        _same(engine.identifier_degrees(min_accounts=1), degrees, ["kind", "value"])
        _same(engine.degree_histogram(), policy.degree_histogram(links), ["kind", "accounts"])
        asked = pd.concat([degrees.tail(5)[["kind", "value"]], pd.DataFrame({"kind": ["device"], "value": ["none"]})])
        expected = asked.merge(degrees, how="left").fillna({"accounts": 0}).astype({"accounts": "int64"})
        _same(engine.value_degrees(asked), expected, ["kind", "value"])


@pytest.mark.parametrize("engine", [*ENGINES, NEO4J_GDS], indirect=True)
def test_a_templates_accounts_are_the_signed_up_ones(engine):
    # Usage of accounts no signup names (a partial export) does not make a template popular:
    # co-activity counts a template's accounts among the accounts it compares.
    _, _, use, numbers = _load(engine, 0)
    template = use["prompt_fingerprint"].value_counts().index[0]
    users = use.loc[use["prompt_fingerprint"] == template, "account_id"].nunique()
    one = use[use["prompt_fingerprint"] == template].head(1)
    strangers = pd.concat([one] * 6, ignore_index=True).assign(account_id=[f"stranger{i}" for i in range(6)])
    assert engine.load_usage(strangers.assign(request_id=[f"r-stranger{i}" for i in range(6)])).loaded == 6
    # The most used template is used by exactly as many signed-up accounts as the rule allows.
    rule = SimilarityPolicy(bucket_minutes=60, max_template_accounts=users, top_k=50, cutoff=0.0, degree_cutoff=1)
    rows = use.assign(idx=use["account_id"].map(numbers))
    expected = policy.node_similarity(rows, rule)
    strict = policy.node_similarity(rows, replace(rule, max_template_accounts=users - 1))
    assert users >= 10 and len(expected) > len(strict) + 10
    _same(engine.node_similarity(rule), expected, ["a", "b"], approx=("similarity",))
