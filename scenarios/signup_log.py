"""Signup-log family: the thin registration log of a consumer web service (account, time, e-mail, IP).

No phone, device, payment or usage: what a small service or a web server's log keeps. Fraud:

- ``bulk_signup``: scripted registrations in bursts from a few datacenter addresses, a VPN
  exit, a proxy provider's /24s or one IPv6 /64, with numbered, random-looking, dotted-Gmail
  or +tagged addresses, or (the hard ones) name-like addresses over mobile or residential
  proxies;
- ``proxy_rotation``: rings that register a few accounts a day for weeks, each from another
  address of a rotating proxy pool, with templated or ordinary-looking addresses.

Honest sharing: campuses and offices behind a few NAT addresses (with classroom bursts: a
lecturer asks everyone to sign up now), families on one home line (a child's address as a
+tag of a parent's), marketing campaigns that bring thousands of strangers in one hour,
mobile carriers' shared gateways, VPN exits, disposable mail used for privacy, and handles
and birth years in honest addresses that look as patterned as a script's.

Names, mailbox providers, networks and timing come from the identity family's renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .families import FamilyFiles, ring_labels, write_family
from .identity.draws import pick, pick_hard, sizes, token, words
from .identity.networks import ipv4, ipv6
from .identity.people import campus_domain, company_domain, email_locals, names, providers, unique_emails
from .identity.timing import arrivals, timestamps, within
from .identity.world import Registrants

FAMILY = "signup_log"
IDENTIFIERS: tuple[str, ...] = ()
MIN_ACCOUNTS = 1000


@dataclass(frozen=True)
class SignupLogParams:
    """Rates, sizes and mixes of the signup-log world; shares are of all accounts unless noted."""

    window_days: int = 60
    fraud_share: float = 0.07
    # Ring kind, share of fraud accounts, sizes (smallest, largest, power-law exponent).
    rings: tuple = (("bulk_signup", 0.65, 10, 400, 1.4), ("proxy_rotation", 0.35, 5, 80, 1.6))
    hard_ring_share: float = 0.35
    # Honest groups, as shares of legitimate accounts.
    household_share: float = 0.12
    household_sizes: tuple = ((2, 0.45), (3, 0.25), (4, 0.18), (5, 0.08), (6, 0.04))
    nat_share: float = 0.10
    nat_sizes: tuple = (40, 3000, 1.3)
    campus_share: float = 0.5  # of NAT groups; the others are offices
    classroom_share: float = 0.25  # of campus members, who sign up in a lecture together
    campaign_share: float = 0.04  # brought in by campaign spikes
    campaigns_per_month: float = 1.5
    # How people connect and what they write.
    mobile_share: float = 0.4
    vpn_share: float = 0.03
    mobile_accounts_per_ip: float = 2.5
    vpn_accounts_per_ip: float = 5.0
    ipv6_home_share: float = 0.25
    mapped_ipv4_share: float = 0.05  # IPv4 logged as ::ffff:a.b.c.d by a dual-stack server
    disposable_share: float = 0.01  # honest people who keep their inbox to themselves
    family_tag_share: float = 0.05  # households where a child signs up as parent+child@
    missing_email: float = 0.005
    missing_ip: float = 0.003
    placeholder_share: float = 0.002
    countries: tuple = (("US", 35), ("IN", 12), ("GB", 8), ("BR", 8), ("DE", 6), ("FR", 5), ("MX", 5),
                        ("CA", 4), ("ES", 3), ("AU", 3), ("NL", 2))


_DISPOSABLE = words("mailinator.com guerrillamail.com sharklasers.com yopmail.com 10minutemail.net tempmail.dev "
                    "dispostable.com maildrop.cc getnada.com trashmail.com")
_CHEAP_TLDS = words("top xyz icu shop online site click buzz")
_HOSTING_V4 = words("5.161 45.77 51.15 64.227 95.216 104.248 139.59 159.89 167.99 178.62 188.166")
_HOSTING_V6 = words("2a01:4f8 2001:19f0 2604:a880 2a03:b0c0 2001:41d0")
_PLUS_DOMAINS = {"gmail.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me", "fastmail.com"}
_PLACEHOLDER_EMAILS = words("test@test.com noemail@gmail.com none@none.com asdf@asdf.com")
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


class _Log(Registrants):
    """Registrations under construction; honest people's addresses are written at the end."""

    def __init__(self, accounts: int, rng, params: SignupLogParams):
        super().__init__(accounts, rng, params)
        self.window = params.window_days * 86400.0
        self.email = np.full(accounts, None, dtype=object)  # scripted ones now, the others at the end
        self.mail_domain = np.full(accounts, None, dtype=object)  # campus or company mail
        self.tag_of = np.full(accounts, -1)  # whose address this account writes with a +tag


# ---- fraud

def _burst(rng, n: int, window: float) -> np.ndarray:
    """A script's rhythm: one or a few bursts, a few seconds to a minute apart."""
    bursts = 1 if rng.random() < 0.6 else int(rng.integers(2, 6))
    starts = np.sort(rng.random(bursts)) * (window - 86400)
    which = np.sort(rng.integers(0, bursts, n))
    gaps = rng.exponential(rng.uniform(3, 60), n)
    offsets = np.zeros(n)
    for b in range(bursts):
        at = np.flatnonzero(which == b)
        offsets[at] = np.cumsum(gaps[at])
    return within(starts[which] + offsets, window)


def _slow(rng, n: int, window: float) -> np.ndarray:
    """A few registrations a day at any hour, for two to six weeks."""
    span = min(rng.uniform(14, 42) * 86400, window - 3600)
    return np.sort(rng.random() * (window - span) + rng.random(n) * span)


def _hosts(rng, net: str, k: int) -> np.ndarray:
    """`k` distinct addresses in the /24 `net` ("188.166.9.")."""
    return net + rng.choice(np.arange(2, 255), k, replace=False).astype(str).astype(object)


def _ring_ips(log: _Log, n: int, style: str, country: str) -> np.ndarray:
    rng = log.rng
    if style == "few_ips":
        pool = _hosts(rng, pick(rng, _HOSTING_V4, 1)[0] + f".{rng.integers(0, 256)}.", int(rng.integers(1, 6)))
    elif style == "vpn":  # a commercial VPN's exits, shared with its honest customers
        pool = log.net.vpn(int(rng.integers(1, 4)))
    elif style == "proxy_range":
        nets = [ip.rsplit(".", 1)[0] + "." for ip in ipv4(rng, _HOSTING_V4, int(rng.integers(1, 4)))]
        return pick(rng, nets, n) + rng.integers(2, 255, n).astype(str).astype(object)
    elif style == "v6_rotation":  # a different address of one /64 each time
        net = pick(rng, _HOSTING_V6, 1)[0] + "".join(f":{h:x}" for h in rng.integers(0, 65536, 2))
        return ipv6(rng, np.full(n, net, dtype=object))
    elif style == "mobile_proxy":
        return log.net.mobile(np.repeat(country, n))
    else:  # a residential proxy pool in the ring's country: all over, some addresses handed out twice
        pool = log.net.home(np.repeat(country, max(1, round(n / rng.uniform(1.5, 4)))), 0.1)
    return pool[rng.integers(0, len(pool), n)]


def _ring_emails(log: _Log, at: np.ndarray, style: str) -> None:
    """Addresses a script makes, in the order it registers them ("names" are written at the end)."""
    rng, n = log.rng, len(at)
    order = at[np.argsort(log.t[at], kind="stable")]
    first, last = names(rng, log.country[order])
    base = first[0] + rng.choice(["", ".", "_"]) + last[0]
    if style == "numbered":
        domain = rng.choice(["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"]) if rng.random() < 0.5 \
            else _cheap_domain(rng)
        start, width = int(rng.integers(1, 500)), int(rng.choice([1, 2, 3]))
        log.email[order] = [f"{base}{i:0{width}d}@{domain}" for i in range(start, start + n)]
    elif style == "random":
        domains = pick(rng, _DISPOSABLE, n) if rng.random() < 0.5 else np.full(n, _cheap_domain(rng), dtype=object)
        log.email[order] = token(rng, n, int(rng.integers(8, 13)), _ALNUM) + "@" + domains
    elif style == "dots":  # one Gmail inbox, a different placement of dots each time
        local = (first[0] + last[0] + str(rng.integers(10, 100)))[:14]
        masks = rng.choice(2 ** (len(local) - 1), size=min(n, 2 ** (len(local) - 1)), replace=False)
        log.email[order] = [_dotted(local, m) + "@gmail.com" for m in masks[np.arange(n) % len(masks)]]
    elif style == "plus":
        tags = token(rng, n, int(rng.integers(3, 7)), _ALNUM)
        log.email[order] = base + "+" + tags + "@" + rng.choice(sorted(_PLUS_DOMAINS))
    elif style == "template":  # one pattern over many made-up names
        domain = rng.choice(["gmail.com", "outlook.com", "hotmail.com", "yahoo.com"])
        log.email[order] = first + last + token(rng, n, 4, "0123456789") + "@" + domain


def _cheap_domain(rng) -> str:
    """A freshly registered catch-all domain the ring owns ("fasthub76.icu")."""
    word = rng.choice(["mail", "box", "inbox", "post", "fast", "quick", "pro", "smart"])
    suffix = rng.choice(["box", "hub", "zone", "net", "mx"])
    return f"{word}{suffix}{rng.integers(1, 99)}.{rng.choice(_CHEAP_TLDS)}"


def _dotted(local: str, mask: int) -> str:
    return "".join(c + ("." if mask >> i & 1 and i < len(local) - 1 else "") for i, c in enumerate(local))


def _fraud(log: _Log) -> None:
    rng, p = log.rng, log.p
    total = round(log.n * p.fraud_share)
    for kind, share, low, high, alpha in p.rings:
        ring_sizes = sizes(rng, max(low, round(total * share)), low, high, alpha)
        for size, hard in zip(ring_sizes, pick_hard(rng, len(ring_sizes), p.hard_ring_share)):
            country = log.countries(1)[0]
            at = log.take(int(size), kind, country)
            log.ring[at], log.rings = log.rings, log.rings + 1
            log.hard_rings += int(hard)
            if kind == "bulk_signup":
                log.t[at] = _burst(rng, len(at), log.window)
                ips = ["mobile_proxy", "residential", "v6_rotation"] if hard else \
                    ["few_ips", "vpn", "proxy_range", "v6_rotation"]
                emails = ["names", "template"] if hard else ["numbered", "random", "dots", "plus"]
            else:
                log.t[at] = _slow(rng, len(at), log.window)
                ips = ["residential", "mobile_proxy"] if hard else ["proxy_range", "few_ips", "residential"]
                emails = ["names"] if hard else ["numbered", "random", "template"]
            log.ip[at] = _ring_ips(log, len(at), rng.choice(ips), country)
            _ring_emails(log, at, rng.choice(emails))


# ---- honest people

def _households(log: _Log, total: int) -> None:
    rng, p = log.rng, log.p
    drawn = log.households(total)
    if drawn is None:
        return
    at, house, start, hs, country = drawn
    k = len(hs)
    head = at[start[house]]
    log.group[at] = [f"household-{h}" for h in house]
    log.surname_of[at] = np.where(rng.random(len(at)) < 0.85, head, at)
    home = log.net.home(country, p.ipv6_home_share)[house]
    on_v6 = np.flatnonzero(np.asarray([":" in ip for ip in home]))  # each device its own address in the /64
    home[on_v6] = ipv6(rng, np.asarray([":".join(ip.split(":")[:4]) for ip in home[on_v6]], dtype=object))
    at_home = (rng.random(len(at)) < 0.8) | (at == head)
    log.ip[at[at_home]] = home[at_home]
    tagged = (rng.random(k) < p.family_tag_share)[house] & (at != head)
    log.tag_of[at[tagged]] = head[tagged]
    log.t[at] = arrivals(rng, log.country[at], p.window_days)
    evening = (rng.random(k) < 0.35)[house] & (at != head)  # the family signs up together
    later = log.t[head[evening]] + rng.exponential(1800, int(evening.sum()))
    log.t[at[evening]] = within(later, log.window)


def _nat(log: _Log, legit: int) -> None:
    """Campuses and offices: everyone behind a few gateway addresses, some with the organisation's mail."""
    rng, p = log.rng, log.p
    for g, size in enumerate(sizes(rng, round(legit * p.nat_share), *p.nat_sizes)):
        country = log.countries(1)[0]
        campus = rng.random() < p.campus_share
        at = log.take(int(size), "nat", country)
        log.group[at] = f"{'campus' if campus else 'office'}-{g}"
        gateway = log.net.business(np.asarray([country], dtype=object))[0]
        pool = _hosts(rng, gateway.rsplit(".", 1)[0] + ".", int(rng.integers(1, 9)))
        behind = at[rng.random(len(at)) < 0.85]
        log.ip[behind] = pool[rng.integers(0, len(pool), len(behind))]
        if not campus:
            log.mail_domain[at[rng.random(len(at)) < 0.35]] = company_domain(rng, country)
            log.t[at] = arrivals(rng, log.country[at], p.window_days, weekday=(1, 1, 1, 1, 1, 0.2, 0.1))
            continue
        log.mail_domain[at[rng.random(len(at)) < 0.4]] = campus_domain(rng, country)
        log.t[at] = arrivals(rng, log.country[at], p.window_days)
        in_class = at[rng.random(len(at)) < p.classroom_share]
        lectures = max(1, len(in_class) // 60)
        lecture = rng.integers(0, lectures, len(in_class))
        when = arrivals(rng, np.repeat(country, lectures), p.window_days, weekday=(1, 1, 1, 1, 1, 0, 0))
        log.t[in_class] = within(when[lecture] + rng.exponential(600, len(in_class)), log.window)
        log.ip[in_class] = pool[lecture % len(pool)]


def _campaigns(log: _Log, legit: int) -> None:
    """A TV slot or a creator's post: thousands of strangers in one country within the hour."""
    rng, p = log.rng, log.p
    spikes = max(1, round(p.campaigns_per_month * p.window_days / 30))
    share = rng.dirichlet(np.full(spikes, 2.0))
    for c, size in enumerate(np.maximum(1, np.round(share * legit * p.campaign_share)).astype(int)):
        at = log.take(int(size), "campaign_spike", log.countries(1)[0])
        log.group[at] = f"campaign-{c}"
        start = rng.uniform(0.05, 0.95) * log.window
        log.t[at] = within(start + rng.exponential(rng.uniform(900, 3600), len(at)), log.window)


def _access(log: _Log) -> None:
    """Everyone without a line yet signs up from home, over a phone or through a VPN."""
    p = log.p
    at = np.flatnonzero(pd.isna(log.ip))
    how = log.rng.choice(3, size=len(at), p=[1 - p.mobile_share - p.vpn_share, p.mobile_share, p.vpn_share])
    log.ip[at[how == 0]] = log.net.home(log.country[at[how == 0]], p.ipv6_home_share)
    log.ip[at[how == 1]] = log.net.mobile(log.country[at[how == 1]])
    log.ip[at[how == 2]] = log.net.vpn(int((how == 2).sum()))


def _honest_emails(log: _Log) -> None:
    """Name-based addresses for everyone without a scripted one; +tags of a parent's address."""
    rng, p = log.rng, log.p
    at = np.flatnonzero(pd.isna(log.email))
    first, last = names(rng, log.country)
    first, last = first[at], last[log.surname_of][at]
    local = email_locals(rng, first, last)
    domain = log.mail_domain[at]
    free = pd.isna(domain)
    domain[free] = providers(rng, log.country[at][free])
    local[~free] = first[~free] + "." + last[~free]
    private = (rng.random(len(at)) < p.disposable_share) & free
    domain[private] = pick(rng, _DISPOSABLE, int(private.sum()))
    log.email[at] = unique_emails(rng, local + "@" + domain)
    tagged = np.flatnonzero(log.tag_of >= 0)
    parent = log.email[log.tag_of[tagged]]
    plus = np.asarray([e.split("@", 1)[1] in _PLUS_DOMAINS for e in parent], dtype=bool)
    child = names(rng, log.country[tagged])[0]
    log.email[tagged[plus]] = [e.replace("@", f"+{c}@", 1) for e, c in zip(parent[plus], child[plus])]


def _noise(log: _Log) -> None:
    """What a real log holds besides the truth: mapped addresses, odd spellings, gaps, placeholders."""
    rng, p, n = log.rng, log.p, log.n
    email, ip = log.email, log.ip
    mapped = np.flatnonzero((rng.random(n) < p.mapped_ipv4_share) & np.asarray([":" not in a for a in ip]))
    ip[mapped] = "::ffff:" + ip[mapped]
    shout = np.flatnonzero(rng.random(n) < 0.03)
    email[shout] = [e.capitalize() for e in email[shout]]
    padded = np.flatnonzero(rng.random(n) < 0.005)
    email[padded] = " " + email[padded] + " "
    placeholder = rng.random(n) < p.placeholder_share
    email[placeholder] = pick(rng, _PLACEHOLDER_EMAILS, int(placeholder.sum()))
    email[rng.random(n) < p.missing_email] = None
    ip[rng.random(n) < p.missing_ip] = None


def build(accounts: int, seed: int, params: SignupLogParams) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Registrations and labels of one signup-log world, in log order, and its number of hard rings."""
    rng = np.random.default_rng([seed, 0x516])
    log = _Log(accounts, rng, params)
    _fraud(log)
    legit = accounts - log.used
    _nat(log, legit)
    _campaigns(log, legit)
    _households(log, round(legit * params.household_share))
    rest = accounts - log.used
    at = log.take(rest, "individual", log.countries(rest))
    log.t[at] = arrivals(rng, log.country[at], params.window_days)
    _access(log)
    _honest_emails(log)
    _noise(log)
    order = np.lexsort((rng.random(accounts), log.t))
    created = timestamps(log.t[order], params.window_days)
    account_id = (5_000_000 + np.cumsum(rng.integers(1, 3, accounts))).astype(str).astype(object)
    signups = pd.DataFrame({"account_id": account_id, "created_at": created, "email": log.email[order],
                            "ip": log.ip[order]})
    labels = ring_labels(account_id, log.ring[order], log.scenario[order], log.group[order])
    return signups, labels, log.hard_rings


def generate(out_dir, *, accounts: int, seed: int, params: SignupLogParams | None = None) -> FamilyFiles:
    """The signup-log family's registrations and labels (Parquet), with ground truth; no usage file."""
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"the signup_log family needs at least {MIN_ACCOUNTS} accounts, got {accounts}")
    signups, labels, hard = build(accounts, seed, params or SignupLogParams())
    files = write_family(out_dir, signups, labels, usage=None, identifiers=IDENTIFIERS)
    files.counts["hard_rings"] = hard
    return files
