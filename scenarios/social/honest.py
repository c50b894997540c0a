"""Honest activity: everyone's posts, replies, likes and reposts, and the crowds that look coordinated.

Sessions of organic activity, second accounts posting from their owner's phone, breaking
news, viral challenges and fan communities chanting on match nights.
"""

from __future__ import annotations

import numpy as np

from .content import _Rows
from .draws import _ids, _weighted_sample, _zipf
from .params import _END, _START, AMP, DAY, FAN, HOUR, MULTI, SLOW, SOCK
from .tables import _TZ, _WEIGHTS, CODES
from .timing import EVENING, HUMAN, _times


def _sessions(rng, counts: np.ndarray, lo: np.ndarray, tz: np.ndarray, profile: np.ndarray, gap: float = 150.0):
    """Times for counts[i] rows of account i, grouped into sessions of actions a few minutes apart."""
    accts = np.flatnonzero(counts > 0)
    counts = counts[accts]
    n_sessions = 1 + rng.binomial(counts - 1, .4)
    owner = np.repeat(accts, n_sessions)
    starts = _times(rng, lo[owner], _END, tz[owner], profile[owner])
    first = np.cumsum(n_sessions) - n_sessions
    session = np.repeat(first, counts) + (rng.random(counts.sum()) * np.repeat(n_sessions, counts)).astype(np.int64)
    session.sort()
    steps = np.cumsum(rng.exponential(gap, len(session)))
    opens = np.r_[True, session[1:] != session[:-1]]
    offset = steps - np.maximum.accumulate(np.where(opens, steps, 0.0))
    ts = starts[session] + offset.astype(np.int64)
    keep = ts < _END
    return owner[session][keep], ts[keep]


def _organic(p, pop, acc, content, rng, rows: _Rows):
    """Everyone's own posts, replies and short replies (in sessions) and likes and reposts of popular items."""
    n = len(pop.kind)
    lo = np.maximum(_START, acc.created + 300)
    rkind = np.where(pop.ring >= 0, pop.ring_kind[np.maximum(pop.ring, 0)], -1)
    total = rng.poisson(acc.rate)
    own = rng.binomial(total, .55)
    react = total - own
    for kind, own_mean, react_mean in ((SOCK, 4, 3), (AMP, 1.5, 5), (SLOW, 3, 4)):
        at = rkind == kind
        own[at], react[at] = rng.poisson(own_mean, int(at.sum())), rng.poisson(react_mean, int(at.sum()))
    acct, ts = _sessions(rng, own, lo, acc.tz, acc.profile)
    m = len(acct)
    what = rng.random(m)
    fp = _ids(rng, m)
    tin = np.clip(rng.lognormal(np.log(28), .8, m), 1, 700).astype(np.int64)
    tout = np.zeros(m, dtype=np.int64)
    reply = what >= .55
    tin[reply] = np.clip(rng.lognormal(np.log(12), .8, int(reply.sum())), 1, 300)
    tout[reply] = content.item_len[rng.integers(0, len(content.item_len), int(reply.sum()))]
    short = what >= .85
    r = rng.choice(len(content.reply_id), int(short.sum()), p=content.reply_weight)
    fp[short], tin[short] = content.reply_id[r], content.reply_len[r]
    rows.add(acct, ts, fp, tin, tout)

    racct = np.repeat(np.arange(n), react)
    item = rng.choice(len(content.item_id), len(racct), p=content.item_weight)
    rts = content.item_time[item] + rng.lognormal(np.log(2.5 * HOUR), 1.2, len(racct)).astype(np.int64)
    keep = (rts >= lo[racct]) & (rts < _END)
    racct, rts, item = racct[keep], rts[keep], item[keep]
    quote = rng.random(len(racct)) < .05
    rfp = np.where(quote, _ids(rng, len(racct)), content.item_id[item])
    rtin = np.where(quote, rng.integers(3, 40, len(racct)), 0)
    rows.add(racct, rts, rfp, rtin, content.item_len[item])
    return acct, ts, fp, tin, tout


def _second_accounts(pop, created, rng, rows: _Rows, session) -> None:
    """A person's second account posts from the same phone minutes after the first, often the same text."""
    acct, ts, fp, tin, tout = session
    n = len(pop.kind)
    owner = np.where(pop.group >= 0, pop.group_start[np.maximum(pop.group, 0)], -1)
    second = np.flatnonzero((pop.kind == MULTI) & (np.arange(n) != owner))
    for slot in range(2):
        chosen = second[second - owner[second] - 1 == slot]
        target = np.full(n, -1)
        target[owner[chosen]] = chosen
        pick = np.flatnonzero((target[acct] >= 0) & (rng.random(len(acct)) < .5))
        same = rng.random(len(pick)) < .3
        when = ts[pick] + rng.integers(20, 900, len(pick))
        keep = (when < _END) & (when >= created[target[acct[pick]]] + 300)
        rows.add(target[acct[pick]][keep], when[keep], np.where(same, fp[pick], _ids(rng, len(pick)))[keep],
                 np.where(same, tin[pick], rng.integers(3, 80, len(pick)))[keep], tout[pick][keep])


def _loguniform(rng, bounds) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def _news(p, acc, legit, rng, rows: _Rows) -> np.ndarray:
    """Breaking news: thousands of strangers post one link within the hour. Returns each account's first story."""
    n = len(legit)
    joined = np.full(n, -1)
    for e in range(p.news_events):
        k = max(30, round(n * _loguniform(rng, p.news_reach)))
        focus = rng.choice(len(CODES), p=_WEIGHTS)
        t0 = int(_times(rng, np.array([_START + 6 * HOUR]), _END - 12 * HOUR, _TZ[focus, 0], HUMAN)[0])
        weight = np.where(legit & (acc.rate > 0) & (acc.created < t0 - HOUR), acc.rate + 2.0, 0.0)
        if rng.random() < .6:  # a national story
            weight *= np.where(acc.country == focus, 6.0, .3)
        who = _weighted_sample(rng, weight, k)
        acct = np.r_[who, who[rng.random(len(who)) < .2]]
        delay = np.where(rng.random(len(acct)) < .65, rng.exponential(900, len(acct)),
                         rng.lognormal(np.log(2 * HOUR), .8, len(acct)))
        delay[len(who):] += rng.exponential(HOUR, len(acct) - len(who))
        variants = rng.integers(1, 4)
        ids, lens = _ids(rng, variants), rng.integers(12, 45, variants)
        v = rng.choice(variants, len(acct), p=_zipf(variants, 2.0))  # most share the bare link
        ts = t0 + delay.astype(np.int64)
        keep = ts < _END
        rows.add(acct[keep], ts[keep], ids[v][keep], lens[v][keep], 0)
        joined[who[joined[who] < 0]] = e
    return joined


def _challenges(p, acc, legit, rng, rows: _Rows) -> np.ndarray:
    """Viral challenges: one caption spreads over days. Returns each account's first challenge."""
    n = len(legit)
    joined = np.full(n, -1)
    lo = np.maximum(_START, acc.created + 300)
    for c in range(p.challenges):
        k = max(30, round(n * _loguniform(rng, p.challenge_reach)))
        begin = int(_times(rng, np.array([_START]), _END - 12 * DAY, 0.0, HUMAN)[0])
        weight = np.where(legit & (acc.rate > 0), acc.rate + 1.0, 0.0)
        who = _weighted_sample(rng, weight, k)
        acct = np.r_[who, who[rng.random(len(who)) < .3]]
        ts = begin + rng.gamma(2.0, rng.uniform(.5, 2.0) * DAY, len(acct)).astype(np.int64)
        ts[len(who):] += rng.exponential(DAY, len(acct) - len(who)).astype(np.int64)
        canonical = rng.random(len(acct)) < .75
        caption, length = _ids(rng, 1), rng.integers(6, 30)
        fp = np.where(canonical, caption, _ids(rng, len(acct)))
        tin = np.where(canonical, length, rng.integers(6, 60, len(acct)))
        keep = (ts >= lo[acct]) & (ts < _END)
        rows.add(acct[keep], ts[keep], fp[keep], tin[keep], 0)
        joined[who[(joined[who] < 0) & keep[:len(who)]]] = c
    return joined


def _fans(pop, acc, rng, rows: _Rows) -> None:
    """Fan communities: members chant the same lines, most of all on match nights."""
    lo = np.maximum(_START, acc.created + 300)
    for g in np.flatnonzero(pop.group_kind == FAN):
        members = np.arange(pop.group_start[g], pop.group_start[g] + pop.group_size[g])
        active = members[acc.rate[members] > 0]
        chants = rng.integers(6, 31)
        ids, lens, weights = _ids(rng, chants), rng.integers(3, 25, chants), _zipf(chants, 1.2)
        nights = rng.integers(4, 11)
        tz = _TZ[acc.group_country[g], 0]
        kickoff = _times(rng, np.full(nights, _START), _END - 3 * HOUR, tz, EVENING)
        e, j = np.nonzero(rng.random((nights, len(active))) < rng.uniform(.25, .6))
        repeat = 1 + rng.poisson(1.2, len(e))
        e, j = np.repeat(e, repeat), np.repeat(j, repeat)
        background = np.repeat(active, rng.poisson(2.5, len(active)))
        acct = np.r_[active[j], background]
        ts = np.r_[kickoff[e] + rng.integers(-1200, 9000, len(e)),
                   _times(rng, lo[background], _END, acc.tz[background], HUMAN)]
        chant = rng.choice(chants, len(acct), p=weights)
        requests = 1 + (rng.random(len(acct)) < .15) * rng.poisson(1.5, len(acct))
        keep = (ts >= lo[acct]) & (ts < _END)
        rows.add(acct[keep], ts[keep], ids[chant][keep], lens[chant][keep], 0, requests[keep])
