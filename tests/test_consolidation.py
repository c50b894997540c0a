"""Consolidation: flagged fragments that share a ring's rare prompt templates become one ring."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ringwatch.graph.detection.consolidation import fragment_links, plan_merges, template_profile
from ringwatch.graph.detection.pipeline import detect
from ringwatch.graph.engines import open_engine
from ringwatch.graph.load import ingest
from ringwatch.graph.detection.params import DetectionParams

T0 = pd.Timestamp("2026-09-01")
POPULAR = [f"sdk-chat-{i}" for i in range(4)]


# -- the merge rule on its own ----------------------------------------------------------------

def _activity(groups: dict[str, tuple[int, list[str]]]) -> pd.DataFrame:
    """Every member of each cluster sends every listed template once."""
    rows = [{"account_id": f"{c}-{i}", "prompt_fingerprint": t, "cluster": c, "requests": 1}
            for c, (size, templates) in groups.items() for i in range(size) for t in templates]
    return pd.DataFrame(rows)


def _plan(groups, prompt_accounts, flagged=None, total=20_000, params=None):
    act = _activity(groups)
    sizes = pd.Series({c: size for c, (size, _) in groups.items()})
    return plan_merges(act, sizes, set(flagged if flagged is not None else groups), prompt_accounts, total,
                       params or DetectionParams())


def test_fragments_sharing_two_rare_templates_merge_and_name_them():
    groups = {"c1": (6, ["ring-a", "ring-b", POPULAR[0]]), "c2": (4, ["ring-a", "ring-b"]),
              "c3": (3, ["ring-a", "ring-b", POPULAR[1]])}
    # The two ring templates are used by the 13 fragment members and by 2 accounts elsewhere.
    counts = {"ring-a": 15, "ring-b": 15, POPULAR[0]: 5000, POPULAR[1]: 4000}
    merges = _plan(groups, counts)
    assert list(merges) == ["c1"]
    merge = merges["c1"]
    assert merge.clusters == ("c1", "c2", "c3")
    assert merge.templates == ("ring-a", "ring-b")
    assert merge.outside == 2
    text = merge.sentence()
    assert "joined from 3 linked groups" in text and "ring-a" in text and "ring-b" in text


def test_rings_with_only_popular_or_different_rare_templates_stay_apart():
    popular = {"c1": (6, POPULAR[:3]), "c2": (6, POPULAR[:3])}
    assert _plan(popular, {t: 3000 for t in POPULAR}) == {}
    different = {"c1": (6, ["a-1", "a-2"]), "c2": (6, ["b-1", "b-2"])}
    assert _plan(different, {"a-1": 6, "a-2": 6, "b-1": 6, "b-2": 6}) == {}


def test_one_shared_template_or_a_minor_overlap_is_not_enough():
    # One copied template: below merge_min_templates.
    one = {"c1": (6, ["shared", "a-1", "a-2"]), "c2": (6, ["shared", "b-1", "b-2"])}
    counts = {t: 6 for t in ["a-1", "a-2", "b-1", "b-2"]} | {"shared": 12}
    assert _plan(one, counts) == {}
    # Two shared templates among eight distinct ones: the profiles are mostly different.
    minor = {"c1": (6, ["s1", "s2", "a-1", "a-2", "a-3"]), "c2": (6, ["s1", "s2", "b-1", "b-2", "b-3"])}
    counts = {t: 6 for t in ["a-1", "a-2", "a-3", "b-1", "b-2", "b-3"]} | {"s1": 12, "s2": 12}
    links = fragment_links_for(minor, counts, DetectionParams(merge_min_similarity=0.0))
    assert links["similarity"].iloc[0] < DetectionParams().merge_min_similarity
    assert _plan(minor, counts) == {}


def fragment_links_for(groups, counts, params):
    """Links before the similarity cut, to check the figure the rule compares."""
    act = _activity(groups)
    sizes = pd.Series({c: size for c, (size, _) in groups.items()})
    return fragment_links(template_profile(act, sizes, set(groups), counts, 20_000, params), params)


def test_templates_mostly_used_outside_flagged_clusters_are_no_evidence():
    groups = {"c1": (5, ["t1", "t2"]), "c2": (5, ["t1", "t2"])}
    assert _plan(groups, {"t1": 10, "t2": 10}) != {}
    # The same two templates, but 30 accounts outside the flagged clusters use them too.
    assert _plan(groups, {"t1": 40, "t2": 40}) == {}


def test_only_flagged_clusters_merge():
    groups = {"c1": (5, ["t1", "t2"]), "c2": (5, ["t1", "t2"]), "c3": (5, ["t1", "t2"])}
    merges = _plan(groups, {"t1": 15, "t2": 15}, flagged={"c1", "c3"})
    assert [m.clusters for m in merges.values()] == [("c1", "c3")]


def test_the_plan_does_not_depend_on_row_order():
    groups = {"c4": (3, ["t1", "t2"]), "c1": (6, ["t1", "t2", "t3"]), "c2": (4, ["t1", "t2", "t3"]),
              "x1": (5, ["u1", "u2"]), "x2": (5, ["u1", "u2"])}
    counts = {"t1": 13, "t2": 13, "t3": 10, "u1": 10, "u2": 10}
    act = _activity(groups)
    sizes = pd.Series({c: size for c, (size, _) in groups.items()})
    plans = [plan_merges(act.sample(frac=1, random_state=seed), sizes.sample(frac=1, random_state=seed),
                         set(groups), counts, 20_000, DetectionParams()) for seed in range(4)]
    assert all(p == plans[0] for p in plans)
    assert sorted(m.clusters for m in plans[0].values()) == [("c1", "c2", "c4"), ("x1", "x2")]


# -- end to end through detect ----------------------------------------------------------------

def _signups(prefix, n, start, **same):
    frame = pd.DataFrame({
        "account_id": [f"{prefix}{i:04d}" for i in range(n)],
        "created_at": [(start + pd.Timedelta(minutes=5 * i)).isoformat() + "Z" for i in range(n)],
        "email": [f"{prefix}.person{i}x@gmail.com" for i in range(n)],
        "ip": [f"{(sum(map(ord, prefix)) % 200) + 10}.{i // 250}.{i % 250}.{i % 200 + 2}" for i in range(n)],
        "device_id": [f"dev-{prefix}-{i}" for i in range(n)],
        "payment_id": [f"pm-{prefix}-{i}" for i in range(n)],
        "user_agent": ["Mozilla/5.0 browser"] * n,
    })
    for column, value in same.items():
        frame[column] = value
    return frame


def _sends(accounts, templates, day, rng, per_account=12, ratio=1.0, spread_minutes=600):
    rows = []
    for a in accounts:
        for _ in range(per_account):
            ts = T0 + pd.Timedelta(days=day, minutes=int(rng.integers(0, spread_minutes)))
            rows.append({"account_id": a, "ts": ts.isoformat() + "Z",
                         "prompt_fingerprint": templates[int(rng.integers(0, len(templates)))],
                         "input_tokens": 400, "output_tokens": int(400 * ratio), "requests": 1})
    return rows


def _scenario():
    """Background, a company on SDK templates, ring A in four fragments, ring B in two."""
    rng = np.random.default_rng(11)
    frames, usage = [], []
    background = _signups("bg", 1500, T0 - pd.Timedelta(days=200))
    background["created_at"] = [(T0 - pd.Timedelta(minutes=int(m))).isoformat() + "Z"
                                for m in rng.integers(0, 60 * 24 * 200, len(background))]
    frames.append(background)
    for i, a in enumerate(background["account_id"]):
        usage += _sends([a], POPULAR + [f"own-{a}"], 10 + i % 20, rng, per_account=4)
    company = _signups("co", 40, T0 - pd.Timedelta(days=90), payment_id="pm-company", org_id="org-company",
                       email=[f"staff{i}@company-example.com" for i in range(40)], ip="198.51.100.20")
    company["created_at"] = [(T0 - pd.Timedelta(days=int(d))).isoformat() + "Z" for d in rng.integers(1, 90, 40)]
    frames.append(company)
    for i, a in enumerate(company["account_id"]):
        usage += _sends([a], POPULAR, 5 + i % 30, rng, per_account=8)
    # Each fragment shares one card and one device inside itself only, signs up in a burst
    # and works on its own day, so the fragments share no identifier and no time window.
    for ring, templates, parts in (("ra", ["ring-a-1", "ring-a-2"], 4), ("rb", ["ring-b-1", "ring-b-2", "ring-b-3"], 2)):
        for part in range(parts):
            day = 30 + 3 * part + (20 if ring == "rb" else 0)
            frag = _signups(f"{ring}{part}-", 6, T0 + pd.Timedelta(days=day - 2),
                            payment_id=f"pm-{ring}-{part}", device_id=f"dev-{ring}-{part}")
            frames.append(frag)
            usage += _sends(frag["account_id"], templates + POPULAR[:1], day, rng, per_account=30,
                            ratio=8.0, spread_minutes=90)
    return pd.concat(frames, ignore_index=True), pd.DataFrame(usage)


def _detect(tmp_path, name, signups, usage):
    folder = tmp_path / name
    folder.mkdir()
    signups.to_csv(folder / "signups.csv", index=False)
    usage.to_csv(folder / "usage.csv", index=False)
    with open_engine("embedded", folder / "s.duckdb") as eng:
        ingest(eng, signups=str(folder / "signups.csv"), usage=str(folder / "usage.csv"))
        detect(eng, DetectionParams())
        return eng.results("accounts"), eng.results("rings"), eng.results("ring_evidence")


def test_camouflaged_fragments_become_one_ring_and_legitimate_groups_stay_out(tmp_path):
    signups, usage = _scenario()
    accounts, rings, evidence = _detect(tmp_path, "one", signups, usage)
    ring_of = accounts.set_index("account_id")["ring_id"]
    flagged = accounts.set_index("account_id")["flagged"]

    ra = [a for a in signups["account_id"] if a.startswith("ra")]
    rb = [a for a in signups["account_id"] if a.startswith("rb")]
    assert ring_of[ra].nunique() == 1 and ring_of[ra].notna().all()
    assert ring_of[rb].nunique() == 1 and ring_of[rb].notna().all()
    assert ring_of[ra].iat[0] != ring_of[rb].iat[0]

    row = rings[rings["ring_id"] == ring_of[ra].iat[0]].iloc[0]
    assert row["size"] == 24 and row["flagged"]
    assert "joined from 4 linked groups that share 2 rare prompt templates" in row["top_evidence"]
    sentences = [s["text"] for s in json.loads(row["explanation"])]
    assert any("ring-a-1" in s and "ring-a-2" in s and "used by no other account" in s for s in sentences)
    shown = evidence[(evidence["ring_id"] == row["ring_id"]) & (evidence["kind"] == "prompt")]
    assert sorted(shown["value"]) == ["ring-a-1", "ring-a-2"]
    assert set(shown["members"]) == {24}

    # The company shares the popular SDK templates with the rings and is neither flagged nor joined.
    company = [a for a in signups["account_id"] if a.startswith("co")]
    assert not flagged[company].any() and ring_of[company].isna().all()
    background = [a for a in signups["account_id"] if a.startswith("bg")]
    assert not flagged[background].any()


def test_same_input_gives_the_same_ring_ids(tmp_path):
    signups, usage = _scenario()
    first = _detect(tmp_path, "a", signups, usage)[1]
    # The same rows in another order make the same rings under the same ids.
    second = _detect(tmp_path, "b", signups.sample(frac=1, random_state=3), usage.sample(frac=1, random_state=4))[1]
    key = ["ring_id", "size", "risk_score", "flagged", "top_evidence"]
    pd.testing.assert_frame_equal(first[key].sort_values("ring_id").reset_index(drop=True),
                                  second[key].sort_values("ring_id").reset_index(drop=True))


def test_the_ring_network_shows_the_templates_that_join_the_fragments(tmp_path):
    from ringwatch.graph.reports.views import ring_network

    signups, usage = _scenario()
    accounts, _, _ = _detect(tmp_path, "net", signups, usage)
    ring = accounts[accounts["account_id"].str.startswith("ra")]["ring_id"].iloc[0]
    with open_engine("embedded", tmp_path / "net" / "s.duckdb") as engine:
        edges = ring_network(engine, ring)
    prompts = edges[edges["kind"] == "prompt"]
    assert set(prompts["value"]) == {"ring-a-1", "ring-a-2"} and prompts["account_id"].nunique() == 24
    # accounts and values as one graph: the prompt edges tie every fragment into a single component
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for account, kind, value in edges.dropna(subset=["kind"]).itertuples(index=False):
        parent[find(account)] = find((kind, value))
    members = set(edges["account_id"])
    assert len(members) == 24 and len({find(a) for a in members}) == 1
