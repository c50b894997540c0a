"""Render a demo population into the contract's signups and labels tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import fake_values as fv
from . import population_model as pm

PLUS_TAG_DOMAINS = {"gmail.com", "googlemail.com", "outlook.com", "proton.me", "icloud.com"}
DOT_BLIND_DOMAINS = {"gmail.com", "googlemail.com"}
PLANS = ["free", "pro", "team"]


@dataclass
class AccountKeys:
    """Per-account values that signups, labels and usage all use, rendered first.

    The usage simulation needs only these, so it can start before the signup columns exist.
    """
    account_ids: pa.Array    # block order
    id_numbers: np.ndarray   # numeric part of each account id (random, no group order)
    home_ips: pa.Array       # the true signup IP per account (before placeholders)
    rng: np.random.Generator  # the rendering draws continue from here


@dataclass
class PopulationTables:
    """Rendered signup and label tables, one row per account in block order."""
    signups: pa.Table
    labels: pa.Table


def _canonical(local: pa.Array, domain: pa.Array) -> pa.Array:
    """How a provider sees an address: case-blind, +tags off, gmail dots off."""
    local = pc.list_element(pc.split_pattern(pc.utf8_lower(local), "+", max_splits=1), 0)
    dom = pc.utf8_lower(domain)
    dom = pc.if_else(pc.equal(dom, "googlemail.com"), "gmail.com", dom)
    local = pc.if_else(pc.equal(dom, "gmail.com"), pc.replace_substring(local, ".", ""), local)
    return fv.join(local, "@", dom)


def _repeats(values: pa.Array) -> np.ndarray:
    """True where a value already occurred earlier in the array."""
    codes = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False)
    # Codes are handed out in order of first appearance, so a first sight raises the maximum.
    seen = np.concatenate([[-1], np.maximum.accumulate(codes)[:-1]])
    return codes <= seen


def _emails(cols: dict, domains: list[str], rng) -> pa.Array:
    n = len(cols["scenario"])
    style, key = cols["email_style"], cols["email_key"]
    first, last, _ = fv.name_parts(key)
    serial = fv.zero_pad(cols["email_serial"], 4)
    w1, w2 = fv.word_pair(key)
    plus_base = pc.if_else(pa.array(cols["email_dotted"]), fv.join(first, ".", last),
                           fv.join(first, last))
    local = pc.choose(pa.array(np.minimum(style, pm.E_TOKEN)),
                      fv.person_local_parts(key, cols["email_numbered"]),
                      fv.person_local_parts(key, np.zeros(n, bool)),
                      fv.join(plus_base, "+", serial),
                      fv.join(w1, ".", w2, ".", serial),
                      fv.hex_tokens(key, fv.SALT_NAME + 2, 10))
    domain = fv.pick(domains, cols["email_domain"])
    # Independent people never collide: suffix the account index on accidental clashes.
    personal = np.isin(style, (pm.E_PERSON, pm.E_STAFF))
    rows = np.flatnonzero(personal)
    for _ in range(3):
        dup = rows[_repeats(_canonical(local.take(rows), domain.take(rows)))]
        if not len(dup):
            break
        local = pc.replace_with_mask(local, fv.mask(n, dup),
                                     fv.join(local.take(dup), fv.to_str(dup)))
    plus_ok = pc.is_in(domain, pa.array(sorted(PLUS_TAG_DOMAINS))).to_numpy(zero_copy_only=False)
    tagged = personal & plus_ok & (rng.random(n) < 0.05)
    tags = fv.pick(["ai", "api", "news", "dev", "work", "llm"], rng.integers(0, 6, n))
    local = pc.if_else(pa.array(tagged), fv.join(local, "+", tags), local)
    email = fv.join(local, "@", domain)
    case = rng.random(n)
    email = pc.if_else(pa.array(case < 0.05), pc.utf8_capitalize(email), email)
    email = pc.if_else(pa.array(case > 0.985), pc.utf8_upper(email), email)
    return pc.if_else(pa.array(style == pm.E_NONE), fv.NULL_STR, email)


def _group_labels(cols: dict, kinds: tuple[int, ...]) -> pa.Array:
    scen, group = cols["scenario"], cols["group"]
    prefix = fv.pick([pm.GROUP_PREFIX.get(k, "") for k in range(len(pm.SCENARIOS))], scen)
    text = fv.join(prefix, "-", fv.zero_pad(group.astype(np.int64) + 1, 4))
    return pc.if_else(pa.array(np.isin(scen, kinds) & (group >= 0)), text, fv.NULL_STR)


def account_keys(pop: pm.Population, seed: int) -> AccountKeys:
    """Account ids and home IPs for `pop`; deterministic in (population, seed)."""
    rng = np.random.default_rng([seed, 29])
    cols, n = pop.cols, pop.n
    id_numbers = rng.choice(10 * n, n, replace=False) + 1
    width = max(7, len(str(10 * n)))
    account_ids = fv.join("acct_", fv.zero_pad(id_numbers, width))
    v6 = cols["ip_v6"] >= 0
    ips = pc.if_else(pa.array(v6), fv.ipv6_strings(np.maximum(cols["ip_v6"], 0)),
                     fv.ipv4_strings(cols["ip_v4"]))
    return AccountKeys(account_ids=account_ids, id_numbers=id_numbers, home_ips=ips, rng=rng)


def render_population(pop: pm.Population, keys: AccountKeys) -> PopulationTables:
    """Signup and label tables for `pop`; draws on from ``keys.rng`` (call once per keys)."""
    rng, cols, n = keys.rng, pop.cols, pop.n
    country = fv.pick(fv.COUNTRY_CODES, cols["country"])
    country = pc.if_else(pa.array(rng.random(n) < 0.02), fv.NULL_STR, country)
    signups = pa.table({
        "account_id": keys.account_ids,
        "created_at": pa.array(cols["created"], pa.int64()),
        "email": _emails(cols, pop.domains, rng),
        "phone": fv.phones(cols["phone_country"], cols["phone_key"], cols["phone_fmt"]),
        "ip": keys.home_ips,
        "device_id": fv.keyed_ids(cols["device"], fv.SALT_DEVICE, 32),
        "user_agent": fv.pick(fv.UAS, cols["ua"]),
        "payment_id": fv.keyed_ids(cols["card"], fv.SALT_CARD, 24, "pm_"),
        "country": country,
        "org_id": fv.keyed_ids(cols["org"], fv.SALT_ORG, 12, "org_"),
        "plan": fv.pick(PLANS, cols["plan"]),
    })
    fraud = np.isin(cols["scenario"], pm.FRAUD_KINDS)
    labels = pa.table({
        "account_id": keys.account_ids,
        "label": pc.if_else(pa.array(fraud), "fraud", "legit"),
        "ring_id": _group_labels(cols, pm.FRAUD_KINDS),
        "scenario": fv.pick(list(pm.SCENARIOS), cols["scenario"]),
        "group_id": _group_labels(cols, (pm.ORG, pm.UNIVERSITY, pm.CARRIER, pm.FAMILY)),
    })
    return PopulationTables(signups=signups, labels=labels)
