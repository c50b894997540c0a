"""The identity family's honest population: households, buildings, offices, branches, loners.

Also public Wi-Fi, repeat applicants, and the lines everyone without one applies from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import _numerals, hex_ids, sizes
from .networks import ipv6, ipv6_64
from .people import campus_domain, company_domain
from .timing import OPENING_HOURS, arrivals, within
from .world import _World


def _households(w: _World, total: int) -> None:
    rng, p = w.rng, w.p
    drawn = w.households(total)
    if drawn is None:
        return
    at, house, start, hs, country = drawn
    k = len(hs)
    rank = np.arange(len(at)) - start[house]
    head = at[start[house]]
    w.group[at] = "household-" + _numerals(10, k)[house]
    w.ids["address"][at] = w.ids["address"][head]
    w.surname_of[at] = np.where(rng.random(len(at)) < 0.85, head, at)
    # The home line: IPv4 (the lease sometimes renewed within the same /24), or IPv6 where each
    # device has its own address in the home's /64.
    home = w.net.business(country)[house]
    renewed = np.flatnonzero(rng.random(len(at)) < 0.08)
    home[renewed] = np.asarray([ip.rsplit(".", 1)[0] + "." for ip in home[renewed]], dtype=object) + \
        _numerals(10, 256)[rng.integers(1, 255, len(renewed))]
    on_v6 = (rng.random(k) < p.ipv6_home_share)[house]
    home[on_v6] = ipv6(rng, ipv6_64(rng, country)[house[on_v6]])
    at_home = (rng.random(len(at)) < p.home_ip_use) | (rank == 0)
    w.ip[at[at_home]] = home[at_home]
    w.ip[at[~at_home]] = w.net.mobile(w.country[at[~at_home]])
    # A family tablet, a card, a landline, a parent's phone, a joint inbox.
    tablet = (rng.random(k) < p.household_device)[house] & ((rng.random(len(at)) < 0.6) | (rank == 0))
    w.ids["device"][at[tablet]] = w.ids["device"][head[tablet]]
    card = (rng.random(k) < p.household_card)[house] & (rank == 1)
    w.ids["payment"][at[card]] = w.ids["payment"][head[card]]
    landline = (rng.random(k) < p.household_landline)[house] & (rng.random(len(at)) < 0.7)
    w.ids["phone"][at[landline]] = w.fresh(k)[house[landline]]
    child = (rng.random(k) < p.parent_phone)[house] & (hs[house] >= 3) & (rank == hs[house] - 1)
    w.ids["phone"][at[child]] = w.ids["phone"][head[child]]
    joint = (rng.random(k) < p.joint_email)[house] & (rank == 1)
    w.ids["email"][at[joint]] = w.ids["email"][head[joint]]
    w.t[at] = arrivals(rng, w.country[at], p.window_days)
    together = (rng.random(k) < 0.25)[house] & (rank > 0)  # applied at the same sitting
    w.t[at[together]] = within(w.t[head[together]] + rng.exponential(5400, int(together.sum())),
                               p.window_days * 86400.0)


def _buildings(w: _World, legit: int) -> None:
    rng = w.rng
    for kind, share, low, high in w.p.buildings:
        for g, size in enumerate(sizes(rng, max(low, round(legit * share)), low, high, 1.5)):
            country = w.countries(1)[0]
            at = w.take(int(size), kind, country)
            w.group[at] = f"{kind}-{g}"
            w.ids["address"][at] = w.fresh(1)[0]
            if kind == "apartment":  # some write their flat number, many do not
                flat = at[rng.random(len(at)) < 0.45]
                w.unit[flat] = "Apt " + _numerals(10, 400)[rng.integers(1, 400, len(flat))]
            elif kind == "dorm":  # the campus network, and some use their student address
                w.share_ips(at, w.net.business(np.repeat(country, rng.integers(1, 5))), use=0.7)
                w.mail_domain[at[rng.random(len(at)) < 0.45]] = campus_domain(rng, country)
            else:  # a care home: the front-desk phone, the staff tablet, the home's line
                w.share("phone", at, 1, use=0.3)
                w.share("device", at, 1, use=0.4)
                w.share_ips(at, w.net.business(np.repeat(country, 1)), use=0.6)
            w.t[at] = arrivals(rng, w.country[at], w.p.window_days)


def _offices(w: _World, legit: int) -> None:
    rng = w.rng
    for g, size in enumerate(sizes(rng, round(legit * w.p.office_share), *w.p.office_sizes)):
        country = w.countries(1)[0]
        at = w.take(int(size), "office", country)
        w.group[at] = f"office-{g}"
        w.share_ips(at, w.net.business(np.repeat(country, rng.integers(1, 5 if size > 50 else 3))))
        w.mail_domain[at[rng.random(len(at)) < 0.3]] = company_domain(rng, country)
        w.org[at[rng.random(len(at)) < 0.15]] = "org_" + hex_ids(rng, 1, 6)[0]
        w.t[at] = arrivals(rng, w.country[at], w.p.window_days, weekday=(1, 1, 1, 1, 1, 0.2, 0.1),
                           hours=OPENING_HOURS)


def _branches(w: _World, legit: int) -> None:
    """Bank branches or shops where staff open accounts for customers on a counter terminal."""
    rng = w.rng
    for g, size in enumerate(sizes(rng, round(legit * w.p.branch_share), *w.p.branch_sizes)):
        country = w.countries(1)[0]
        at = w.take(int(size), "branch", country)
        w.group[at] = f"branch-{g}"
        w.share("device", at, int(rng.integers(1, 4)), use=0.9)
        w.share_ips(at, w.net.business(np.repeat(country, 1)))
        w.t[at] = arrivals(rng, w.country[at], w.p.window_days, weekday=(1, 1, 1, 1, 1.1, 0.6, 0.0),
                           hours=OPENING_HOURS)


def _hotspots(w: _World, legit: int) -> None:
    """Cafés, libraries and stations: strangers on one public Wi-Fi address, some spots busy."""
    rng = w.rng
    total = round(legit * w.p.hotspot_share)
    spots = max(2, total // 8)
    country = w.countries(spots)
    popularity = 1.0 / np.arange(1, spots + 1) ** 0.8
    spot = np.sort(rng.choice(spots, size=total, p=popularity / popularity.sum()))
    at = w.take(total, "public_wifi", country[spot])
    w.group[at] = "hotspot-" + _numerals(10, spots)[spot]
    w.ip[at] = w.net.business(country)[spot]
    w.t[at] = arrivals(rng, w.country[at], w.p.window_days)


def _repeat_applicants(w: _World, legit: int) -> None:
    """People who apply twice or three times (a second product, a declined first try)."""
    rng = w.rng
    people = round(legit * w.p.repeat_applicant_share / 2.15)
    if people == 0:
        return
    times = np.where(rng.random(people) < 0.85, 2, 3)
    start = np.cumsum(times) - times
    person = np.repeat(np.arange(people), times)
    at = w.take(int(times.sum()), "repeat_applicant", np.repeat(w.countries(people), times))
    head = at[start[person]]
    w.group[at] = "applicant-" + _numerals(10, people)[person]
    w.name_of[at], w.surname_of[at] = head, head
    for kind, keep in (("person", 1.0), ("phone", 0.9), ("address", 0.9), ("email", 0.5), ("device", 0.5),
                       ("payment", 0.4)):
        same = rng.random(len(at)) < keep
        w.ids[kind][at[same]] = w.ids[kind][head[same]]
    w.t[at] = arrivals(rng, w.country[at], w.p.window_days)
    later = at != head
    w.t[at[later]] = within(w.t[head[later]] + rng.uniform(1, 120, int(later.sum())) * 86400,
                            w.p.window_days * 86400.0)
    same_line = later & (rng.random(len(at)) < 0.5)
    w.line_of[at[same_line]] = head[same_line]


def _legit(w: _World) -> None:
    legit = w.n - w.used
    _buildings(w, legit)
    _offices(w, legit)
    _branches(w, legit)
    _hotspots(w, legit)
    _repeat_applicants(w, legit)
    _households(w, round(legit * w.p.household_share))
    rest = w.n - w.used
    at = w.take(rest, "individual", w.countries(rest))
    w.t[at] = arrivals(w.rng, w.country[at], w.p.window_days)


def _access(w: _World) -> None:
    """Everyone without a line yet applies from home, over a phone or through a VPN."""
    p = w.p
    at = np.flatnonzero(pd.isna(w.ip) & (w.line_of == np.arange(w.n)))
    how = w.rng.choice(3, size=len(at), p=[1 - p.mobile_share - p.vpn_share, p.mobile_share, p.vpn_share])
    w.ip[at[how == 0]] = w.net.home(w.country[at[how == 0]], p.ipv6_home_share)
    w.ip[at[how == 1]] = w.net.mobile(w.country[at[how == 1]])
    w.ip[at[how == 2]] = w.net.vpn(int((how == 2).sum()))
    w.ip = w.ip[w.line_of]
