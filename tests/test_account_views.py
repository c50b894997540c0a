"""Read models that lead with the account (own evidence and score, per-account timeline) and their pure pieces."""

from __future__ import annotations

import pandas as pd
import pytest
from dashboard_store import IMG, SCRIPT, add_synthetic_ring, make_demo_store
from ringwatch.dashboard import name_memory, tables, timeline_charts
from ringwatch.graph.detection.explanations import member_reasons
from ringwatch.graph.engines import NotSupported, open_engine
from ringwatch.graph.engines.columns import USAGE_COLUMNS
from ringwatch.graph.reports import account_views as av
from ringwatch.graph.reports import views


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = make_demo_store(tmp_path_factory.mktemp("account_views"))
    big = add_synthetic_ring(db, size=300)
    return {"db": db, "big": big}


@pytest.fixture
def engine(store):
    with open_engine("embedded", store["db"]) as eng:
        yield eng


def _largest_ring(engine, big):
    rings = engine.results("rings")
    rings = rings[rings["flagged"] & (rings["ring_id"] != big)]
    return rings.sort_values(["size", "ring_id"], ascending=[False, True]).iloc[0]


# -- reasons as the detector writes them ---------------------------------------------------

def test_split_reasons_reads_back_what_the_detector_writes():
    own = pd.DataFrame({"account_id": ["a", "b"], "cluster": ["c", "c"], "risk_score": [0.9, 0.7],
                        "own": [["shares device d1 with 2 other members", "output/input ratio 3.0x median"], []],
                        "strong": [4, 0]})
    clusters = pd.DataFrame({"risk_score": [0.95], "flagged": [True], "ring_id": ["R-1"], "size": [3]},
                            index=pd.Index(["c"], name="cluster_id"))
    written = member_reasons(own, clusters, {"c": "members share a card | and more"})["reasons"].tolist()
    first, second = av.split_reasons(written[0]), av.split_reasons(written[1])
    assert first == {"own": "shares device d1 with 2 other members; output/input ratio 3.0x median",
                     "ring": "ring R-1 (risk 0.95): members share a card | and more", "strong_links": 4}
    assert second == {"own": "", "ring": "ring R-1 (risk 0.95): members share a card | and more", "strong_links": 0}
    assert av.split_reasons(None) == {"own": "", "ring": "", "strong_links": None}
    assert av.split_reasons("ring R-2: synthetic farm")["ring"] == "ring R-2: synthetic farm"


class _Store:
    """Just the two questions ``own_evidence`` asks, answered from fixed frames."""

    def __init__(self, identifiers: pd.DataFrame, evidence: pd.DataFrame):
        self.identifiers, self.evidence = identifiers, evidence

    def account_identifiers(self, account_ids):
        return self.identifiers[self.identifiers["account_id"].isin(account_ids)]

    def results(self, name, keys=None):
        assert name == "ring_evidence"
        return self.evidence if keys is None else self.evidence.merge(keys, on=list(keys.columns))


def test_own_score_combines_the_kind_weights_and_rarities_of_the_values_each_member_holds():
    ids = pd.DataFrame({"account_id": ["a", "a", "b", "c", "d"], "kind": ["payment", "ip_net", "ip_net", "email", "payment"],
                        "value": ["pm1", "10.0.0.0/24", "10.0.0.0/24", "x@y.z", "pm1"]})
    # pm1 and the /24 are the ring's shared values; c's email is shared nowhere; d is in another ring.
    evidence = pd.DataFrame({"ring_id": ["R", "R"], "kind": ["payment", "ip_net"], "value": ["pm1", "10.0.0.0/24"],
                             "members": [2, 2], "accounts": [2, 40], "rarity": [0.8, 0.5]})
    members = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "ring_id": ["R", "R", "R", "S"],
                            "reasons": [("this account: shares payment instrument pm1 with 1 other members | ring R | "
                                        "strong links: 3"), "ring R | strong links: 1", "ring R | strong links: 0",
                                        "ring S | strong links: 2"]})
    out = av.own_evidence(_Store(ids, evidence), members).set_index("account_id")
    # payment weighs 1.0, a signup network 0.25: a holds both, b only the network, c and d none of R's values.
    assert out.loc["a", "own_score"] == pytest.approx(1 - (1 - 0.8) * (1 - 0.25 * 0.5), abs=1e-4)
    assert out.loc["b", "own_score"] == pytest.approx(0.125, abs=1e-4)
    assert out.loc[["c", "d"], "own_score"].tolist() == [0.0, 0.0]
    assert out["shared_values"].tolist() == [2, 1, 0, 0]
    assert out.loc["a", "own_evidence"] == "shares payment instrument pm1 with 1 other members"
    assert out["strong_links"].tolist() == [3, 1, 0, 2]


# -- on a demo store -----------------------------------------------------------------------

def test_members_of_the_largest_ring_differ_by_their_own_evidence(engine, store):
    ring = _largest_ring(engine, store["big"])
    table = av.member_table(engine, ring["ring_id"])
    members = views.ring_members(engine, ring["ring_id"])
    assert list(table.columns[:3]) == ["account_id", "own_score", "own_evidence"]
    assert set(table["account_id"]) == set(members["account_id"]) and len(table) == ring["size"]
    assert table["own_score"].is_monotonic_decreasing
    assert table["own_score"].nunique() > 1  # one score for everyone was the complaint
    assert ((table["own_score"] == 0) == (table["shared_values"] == 0)).all()
    # Each member's own evidence is the head of its stored reasons, and the ring's text is the rest.
    stored = members.set_index("account_id")["reasons"]
    for _, row in table.head(20).iterrows():
        if row["own_evidence"]:
            assert stored[row["account_id"]].startswith(f"this account: {row['own_evidence']} | ")
        assert row["ring_reasons"].startswith(f"ring {ring['ring_id']} ")


def test_values_named_in_a_members_own_evidence_are_ring_values_it_holds(engine, store):
    ring = _largest_ring(engine, store["big"])
    table = av.member_table(engine, ring["ring_id"]).set_index("account_id")
    ev = engine.results("ring_evidence")
    ev = ev[ev["ring_id"] == ring["ring_id"]]
    held = engine.account_identifiers(table.index.tolist()).merge(ev[["kind", "value"]], on=["kind", "value"])
    checked = 0
    for account, part in held.groupby("account_id"):
        assert table.loc[account, "shared_values"] == len(part)
        for value in part["value"]:
            checked += f" {value} with " in table.loc[account, "own_evidence"]
    assert checked > 0


def test_shared_values_agree_with_the_ban_previews_weak_evidence(engine):
    bans = views.ban_list(engine)
    shown = av.ban_table(engine, bans)
    assert shown["account_id"].tolist() == bans["account_id"].tolist()
    assert shown["risk_score"].tolist() == bans["risk_score"].tolist()
    weak = set(views.weak_evidence_accounts(engine, bans)["account_id"])
    assert weak and weak == set(shown.loc[shown["shared_values"] < views.STRONG_SHARED_VALUES, "account_id"])


def test_usage_rows_are_the_stored_rows_of_the_accounts_asked_for(engine, store):
    member = _largest_ring(engine, store["big"])["cluster_id"]
    rows = engine.usage_rows([member])
    assert list(rows.columns) == USAGE_COLUMNS and set(rows["account_id"]) == {member}
    assert rows["requests"].sum() == engine.member_usage([member], 60)["requests"].sum()


def test_account_timeline_adds_up_per_measure_and_bucket(engine, store):
    member = _largest_ring(engine, store["big"])["cluster_id"]
    rows = engine.usage_rows([member])
    day = av.account_timeline(engine, member, 24 * 60)
    hour = av.account_timeline(engine, member, 60)
    assert day["detailed"] and day["totals"]["requests"].sum() == rows["requests"].sum() == hour["totals"][
        "requests"].sum()
    assert day["totals"]["output_tokens"].sum() == rows["output_tokens"].sum()
    per_bucket = day["totals"].set_index("bucket")["requests"]
    for measure in ("model", "template", "request IP"):
        part = day["by"][day["by"]["measure"] == measure]
        assert part.groupby("bucket")["requests"].sum().equals(per_bucket.rename(None).rename_axis("bucket")), measure
    assert set(day["by"].loc[day["by"]["measure"] == "model", "value"]) == set(rows["model"].fillna("(none)"))
    assert set(day["by"].loc[day["by"]["measure"] == "request IP", "value"]) == set(rows["ip"].fillna("(none)"))


def test_account_timeline_without_per_request_rows_shows_sums_and_templates(engine, store, monkeypatch):
    member = _largest_ring(engine, store["big"])["cluster_id"]

    def refuse(account_ids=None):
        raise NotSupported("reading usage by account_id")

    monkeypatch.setattr(engine, "usage_rows", refuse)
    shown = av.account_timeline(engine, member, 24 * 60)
    assert not shown["detailed"]
    assert set(shown["by"]["measure"]) == {"template"}
    assert shown["totals"]["requests"].sum() == engine.member_usage([member], 60)["requests"].sum()


def test_member_comparison_totals_match_each_members_usage(engine, store):
    ring = _largest_ring(engine, store["big"])
    ids = views.ring_members(engine, ring["ring_id"])["account_id"].tolist()
    compared = av.member_comparison(engine, ids, 24 * 60).groupby("account_id")["requests"].sum()
    totals = views.ring_members(engine, ring["ring_id"]).set_index("account_id")["requests"]
    assert (compared == totals.loc[compared.index]).all()
    assert av.member_comparison(engine, ["nobody"], 60).empty


# -- pure pieces ---------------------------------------------------------------------------

def _by(values: list[str], measure: str = "model") -> pd.DataFrame:
    bucket = pd.Timestamp("2026-11-01")
    return pd.DataFrame({"measure": measure, "bucket": bucket, "value": values, "requests": range(1, len(values) + 1)})


def test_timeline_keeps_the_busiest_values_and_sums_the_rest():
    by = _by([f"m{i:02d}" for i in range(15)])
    rows, rest = timeline_charts.top_values(by, "model")
    assert rest == 3 and len(rows) == timeline_charts.TOP_VALUES + 1
    assert rows["requests"].sum() == by["requests"].sum()
    assert rows.set_index("value").loc["other (3 values)", "requests"] == 1 + 2 + 3


def test_timeline_figure_escapes_values_and_titles():
    totals = pd.DataFrame({"bucket": [pd.Timestamp("2026-11-01")], "requests": [3], "output_tokens": [900]})
    by = pd.concat([_by([SCRIPT]), _by([IMG], "template"), _by(["10.0.0.1"], "request IP")])
    fig = timeline_charts.account_timeline_figure(totals, by, SCRIPT, "day")
    assert len(fig.data) == 5
    text = str(fig.to_plotly_json())  # not to_json(), which writes "<" as \u003c whatever the builder did
    assert SCRIPT not in text and IMG not in text
    assert "&lt;script&gt;" in fig.layout.title.text and "&lt;img" in str(fig.data[3].y)


def test_comparison_draws_the_account_over_the_rings_median():
    days = pd.to_datetime(["2026-11-01", "2026-11-02"])
    usage = pd.DataFrame({"account_id": ["a", "a", "b", "c"], "bucket": [days[0], days[1], days[0], days[1]],
                          "requests": [10, 20, 1, 3], "output_tokens": [0, 0, 0, 0]})
    fig = timeline_charts.comparison_figure(usage, "a", ["b"], "requests", "day")
    names = [t.name for t in fig.data]
    assert names == ["b", "median of the ring's 3 members", "a"]
    assert list(fig.data[1].y) == [1.0, 3.0]  # idle members count 0: medians of (10, 1, 0) and (20, 0, 3)
    assert list(fig.data[2].y) == [10, 20]
    assert timeline_charts.comparison_figure(usage.iloc[0:0], "a", [], "requests", "day").data == ()


def test_links_carry_only_a_quoted_id():
    assert tables.account_url("acct 1/&x=y") == "lookup?account=acct%201%2F%26x%3Dy"
    assert tables.account_url("javascript:alert(1)").startswith("lookup?account=javascript%3A")
    assert tables.ring_url("R-1") == "rings?ring=R-1"


def test_the_remembered_name_is_decoded_trimmed_and_cut():
    assert name_memory.read({name_memory.COOKIE: "J%C3%B6rg%20%20Meyer%20"}) == "Jörg Meyer"
    assert name_memory.read({}) == "" and name_memory.read(None) == ""
    assert len(name_memory.read({name_memory.COOKIE: "x" * 500})) == name_memory.MAX_CHARS
    assert name_memory.read({"other": "ann"}) == ""
    assert tables.height() >= tables.ROW_PX * (tables.MIN_ROWS + 1)
