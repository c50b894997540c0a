"""Ring identity across runs: the matching rule and its lineage events, on hand-made memberships."""

from __future__ import annotations

from ringwatch.graph.detection.pipeline import ring_id
from ringwatch.graph.detection.lineage import match_rings


def _run(previous, current):
    names, events = match_rings(previous, current, ring_id)
    return names, {(e["event"], e["ring_id"]): e for e in events.to_dict("records")}


def _m(prefix, n):
    return frozenset(f"{prefix}{i:02d}" for i in range(n))


def test_unchanged_data_keeps_every_id_and_reports_only_unchanged():
    previous = {"R-a": _m("a", 5), "R-b": _m("b", 4)}
    names, events = _run(previous, {"c1": _m("a", 5), "c2": _m("b", 4)})
    assert names == {"c1": "R-a", "c2": "R-b"}
    assert {k[0] for k in events} == {"unchanged"}


def test_growth_shrinkage_new_and_dissolved():
    previous = {"R-a": _m("a", 6), "R-b": _m("b", 6), "R-gone": _m("g", 3)}
    current = {"c1": _m("a", 6) | {"z1", "z2"}, "c2": _m("b", 3), "c3": _m("n", 4)}
    names, events = _run(previous, current)
    assert names["c1"] == "R-a" and names["c2"] == "R-b"
    assert names["c3"] == ring_id(_m("n", 4))  # never seen: the membership hash
    assert events[("grown", "R-a")]["joined"] == 2
    assert events[("shrunk", "R-b")]["left"] == 3  # 3 of 6 is half the old ring: still R-b
    assert events[("new", names["c3"])]["related_ids"] == ""
    assert ("dissolved", "R-gone") in events


def test_merge_keeps_the_larger_source_and_names_both():
    previous = {"R-big": _m("a", 8), "R-small": _m("b", 3)}
    names, events = _run(previous, {"c": _m("a", 8) | _m("b", 3)})
    assert names == {"c": "R-big"}
    assert events[("merged", "R-big")]["related_ids"] == "R-big,R-small"
    assert ("dissolved", "R-small") not in events


def test_split_keeps_the_id_on_the_larger_part_and_lists_the_parts():
    ring = sorted(_m("a", 10))
    previous = {"R-a": frozenset(ring)}
    names, events = _run(previous, {"p1": frozenset(ring[:6]), "p2": frozenset(ring[6:])})
    assert names["p1"] == "R-a" and names["p2"] != "R-a"
    assert events[("split", "R-a")]["related_ids"] == ",".join(sorted(["R-a", names["p2"]]))
    assert events[("new", names["p2"])]["related_ids"] == "R-a"


def test_an_even_split_is_decided_by_member_id_not_input_order():
    ring = sorted(_m("a", 8))
    previous = {"R-a": frozenset(ring)}
    first, _ = _run(previous, {"x": frozenset(ring[:4]), "y": frozenset(ring[4:])})
    second, _ = _run(previous, {"y": frozenset(ring[4:]), "x": frozenset(ring[:4])})
    assert first == second and first["x"] == "R-a"


def test_a_few_stragglers_do_not_carry_a_ring_id_into_a_new_group():
    previous = {"R-a": _m("a", 10)}
    names, _ = _run(previous, {"c": frozenset({"a00"}) | _m("n", 9)})
    assert names["c"] != "R-a"
