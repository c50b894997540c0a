"""The dashboard's read-side views on a small demo store plus a synthetic ring with injection payloads."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from dashboard_store import FORMULA, IMG, PAYLOAD_ACCOUNT, SCRIPT, add_synthetic_ring, make_demo_store
from ringwatch.cli import main
from ringwatch.dashboard import actions
from ringwatch.dashboard.identity import Identity
from ringwatch.graph.casework import exports as export
from ringwatch.graph.reports import views
from ringwatch.graph.engines import open_engine
from ringwatch.ingest.normalise import is_free_email_domain


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    db = make_demo_store(folder)
    big = add_synthetic_ring(db)
    return {"db": db, "big": big, "folder": folder}


@pytest.fixture
def engine(store):
    with open_engine("embedded", store["db"]) as eng:
        yield eng


def _top_ring(engine, big):
    rings = engine.results("rings")
    rings = rings[rings["flagged"] & (rings["ring_id"] != big)]
    return rings.sort_values(["risk_score", "ring_id"], ascending=[False, True]).iloc[0]


def test_search_terms_normalise_like_ingest():
    terms = views.search_terms("John.Doe+x@GMail.com")
    assert ("email", "johndoe@gmail.com") in set(terms.itertuples(index=False, name=None))
    assert ("phone", "+14155552671") in set(views.search_terms("+1 (415) 555-2671", "phone").itertuples(
        index=False, name=None))
    assert views.search_terms("   ").empty
    with pytest.raises(ValueError):
        views.search_terms("x", "shoe size")


def test_search_finds_an_account_by_each_identifier(engine, store):
    acc = engine.accounts().set_index("account_id")
    ring = _top_ring(engine, store["big"])
    target = acc.loc[ring["cluster_id"]]
    local, domain = target["email"].split("@")
    variant = f"{local.upper()}+promo@{domain.upper()}" if is_free_email_domain(domain) else target["email"].upper()
    for query, field in ((ring["cluster_id"], "account_id"), (variant, "email"), (target["ip"], "ip"),
                         (target["device_id"], "device"), (target["payment_id"], "payment")):
        if not isinstance(query, str):
            continue
        hits, _ = views.search_accounts(engine, query, field)
        assert ring["cluster_id"] in set(hits["account_id"]), (query, field)
        # every hit holds the searched value
        assert set(hits["matched_kind"]) <= set(views.SEARCH_FIELDS[field])
    hits, _ = views.search_accounts(engine, ring["cluster_id"])
    assert hits.loc[hits["account_id"] == ring["cluster_id"], "ring_id"].iloc[0] == ring["ring_id"]


def test_search_caps_results_and_says_so(engine):
    # 2,000 synthetic accounts share the client string "farmbot/1.0"; search by device instead: 10 per device
    hits, capped = views.search_accounts(engine, "dev5", "device", limit=3)
    assert len(hits) == 3 and capped
    hits, capped = views.search_accounts(engine, "dev5", "device", limit=500)
    assert len(hits) == 10 and not capped


def test_neighbourhood_follows_only_the_accounts_own_linking_values(engine, store):
    start = _top_ring(engine, store["big"])["cluster_id"]
    own = engine.account_identifiers([start])
    edges, capped = views.neighbourhood(engine, start, hops=1, limit=10_000, per_value=10_000)
    assert not capped
    linking = own[~((own["kind"] == "email_domain") & own["value"].map(is_free_email_domain))]
    assert set(zip(edges["kind"], edges["value"])) == set(zip(linking["kind"], linking["value"]))
    # every holder of those values is there
    holders = engine.value_accounts(linking[["kind", "value"]], per_value=10_000, limit=100_000)
    assert set(edges["account_id"]) == set(holders["account_id"])


def test_neighbourhood_is_capped_with_a_flag(engine, store):
    start = "synth_00010"
    edges, capped = views.neighbourhood(engine, start, hops=2, limit=40)
    assert capped and len(edges) == 40
    assert start in set(edges["account_id"])
    edges, capped = views.neighbourhood(engine, start, hops=1, limit=10_000, per_value=5)
    assert capped  # farmbot/1.0 is held by ~2,000 accounts: only 5 followed
    assert edges.groupby(["kind", "value"]).size().max() <= 5


def test_ring_detail_members_network_and_activity_agree(engine, store):
    ring = _top_ring(engine, store["big"])
    detail = views.ring_detail(engine, ring["ring_id"])
    contrib = json.loads(ring["contributions"])
    assert detail["breakdown"].set_index("feature")["contribution"].to_dict() == pytest.approx(contrib)
    assert (detail["evidence"]["rarity"].diff().dropna() <= 0).all()
    members = views.ring_members(engine, ring["ring_id"])
    assert len(members) == ring["size"]
    net = views.ring_network(engine, ring["ring_id"])
    assert set(net["account_id"]) == set(members["account_id"])
    linked = net.dropna(subset=["kind"])
    assert (linked.groupby(["kind", "value"])["account_id"].nunique() >= 2).all()
    act = views.activity(engine, members["account_id"].tolist(), 60)
    assert act["requests"].sum() == pytest.approx(members["requests"].sum())
    with pytest.raises(KeyError):
        views.ring_detail(engine, "R-nope")


def test_headline_shares_come_from_usage(engine):
    head = views.headline(engine)
    acc = engine.results("accounts")
    usage = engine.usage_summary()
    flagged = usage[usage["account_id"].isin(acc.loc[acc["flagged"], "account_id"])]
    assert head["flagged_accounts"] == int(acc["flagged"].sum())
    assert head["requests_share"] == pytest.approx(flagged["requests"].sum() / usage["requests"].sum())
    assert 0 < head["output_tokens_share"] < 1


def test_ban_preview_numbers(engine, store):
    ring = _top_ring(engine, store["big"])
    preview = views.ban_preview(engine, rings=[ring["ring_id"]])
    acc = engine.results("accounts")
    in_ring = acc[(acc["ring_id"] == ring["ring_id"]) & acc["flagged"]]
    assert preview["accounts"] == len(in_ring) and preview["rings"] == 1
    usage = engine.usage_summary().set_index("account_id")
    assert preview["requests"] == int(usage.reindex(in_ring["account_id"])["requests"].sum())
    assert preview["requests_share"] == pytest.approx(preview["requests"] / usage["requests"].sum())
    # weak evidence: fewer than two identifier values shared with the ring's evidence
    ev = engine.results("ring_evidence")
    ev = set(map(tuple, ev[ev["ring_id"] == ring["ring_id"]][["kind", "value"]].to_numpy()))
    ids = engine.account_identifiers(in_ring["account_id"].tolist())
    shared = ids[[k in ev for k in zip(ids["kind"], ids["value"])]].groupby("account_id").size()
    expected = {a for a in in_ring["account_id"] if shared.get(a, 0) < 2}
    assert set(preview["weak_accounts"]["account_id"]) == expected
    everything = views.ban_preview(engine)
    assert everything["accounts"] == int(acc["flagged"].sum())
    assert views.ban_preview(engine, min_score=1.01)["accounts"] == 0


@pytest.mark.parametrize("selection,args", [
    ({}, []),
    ({"min_score": 0.9}, ["--min-score", "0.9"]),
    ("top", ["--ring"]),
])
def test_ban_csv_is_byte_identical_to_the_command_line(store, selection, args, tmp_path):
    with open_engine("embedded", store["db"]) as engine:
        if selection == "top":
            rid = _top_ring(engine, store["big"])["ring_id"]
            selection, args = {"rings": [rid]}, ["--ring", rid]
        export.write_csv(export.bans_table(engine, **selection), tmp_path / "direct.csv")
    # the dashboard's download: recorded in the audit log, then handed over
    produce = actions.ban_list_download(("embedded", str(store["db"]), 0.0), Identity("ann", "declared", False),
                                        tuple(selection.get("rings", ())), selection.get("min_score"))
    ours = produce()
    with open_engine("embedded", store["db"]) as engine:
        recorded = engine.records("exports").iloc[-1]
    assert recorded["analyst"] == "ann" and recorded["what"] == "bans"
    assert recorded["content_hash"] == hashlib.sha256(ours).hexdigest()
    result = CliRunner().invoke(main, ["export", "bans", "--db", str(store["db"]), "--out", str(tmp_path / "cli.csv"),
                                       "--analyst", "ann", *args])
    assert result.exit_code == 0, result.output
    assert ours == (tmp_path / "cli.csv").read_bytes() == (tmp_path / "direct.csv").read_bytes()
    assert ours.count(b"\n") > 1


def test_ban_csv_neutralises_formula_payloads(engine):
    text = export.csv_bytes(export.bans_table(engine)).decode()
    lines = text.splitlines()
    assert not any(line.startswith(("=", "+", "-", "@")) for line in lines)
    row = next(line for line in lines if "HYPERLINK" in line)
    assert row.startswith('"\'=HYPERLINK(')
    assert pd.read_csv(__import__("io").StringIO(text))["account_id"].str.startswith("=").sum() == 0


def test_payloads_come_back_as_plain_values(engine):
    profile = views.account_profile(engine, PAYLOAD_ACCOUNT)
    assert profile["signup"]["device_id"] == SCRIPT and profile["signup"]["user_agent"] == IMG
    assert profile["result"]["reasons"] == FORMULA
