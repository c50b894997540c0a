"""Assembling the identity world: the text of every value, form noise, ``build`` and ``generate``.

``generate`` writes the ``signups`` and ``labels`` files; the family has no usage file.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from ..families import FamilyFiles, ring_labels, write_family
from .devices import devices, payment_tokens
from .draws import hex_ids, pick, words
from .honest import _access, _legit
from .params import IDENTIFIERS, MIN_ACCOUNTS, IdentityParams
from .people import addresses, dotted, email_locals, names, providers, unique_emails
from .phones import phones
from .rings import _fraud
from .timing import timestamps
from .world import _World


# Typed to get past a form. Some are on ingest's placeholder list and some are not, as in real data.
_PLACEHOLDER_PHONES = words("0000000000 N/A 1234567890 000-000-0000 none 5555555555 (555)555-5555")
_PLACEHOLDER_EMAILS = words("noemail@gmail.com none@none.com na@na.com noemail@noemail.com no@email.com "
                            "nomail@gmail.com")
_PLACEHOLDER_IDS = ("000000000", "123456789", "111111111")  # hashed upstream like any other id
_PLACEHOLDER_ADDRESSES = np.asarray(["Unknown", "N/A", "123 Main St, Anytown 12345", "General Delivery"],
                                    dtype=object)


def _entities(w: _World, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(first account holding each distinct value, value index of every account)."""
    _, first_at, inverse = np.unique(w.ids[kind], return_index=True, return_inverse=True)
    return first_at, inverse


def _values(w: _World) -> dict[str, np.ndarray]:
    rng, p, n = w.rng, w.p, w.n
    first, last = names(rng, w.country)
    first, last = first[w.name_of], last[w.surname_of]
    at, inv = _entities(w, "email")
    domain = w.mail_domain[at]
    free = pd.isna(domain)
    domain[free] = providers(rng, w.country[at][free])
    local = email_locals(rng, first[at], last[at])
    work = ~free & (domain != "gmail.com")
    local[work] = first[at][work] + "." + last[at][work]
    email = unique_emails(rng, local + "@" + domain)[inv]
    email[w.dotted] = dotted(rng, email[w.dotted])
    at, inv = _entities(w, "phone")
    country = w.country[at].copy()
    foreign = rng.random(len(at)) < p.foreign_phone_share
    country[foreign] = w.countries(int(foreign.sum()))
    phone = phones(rng, country, rng.random(len(at)) < p.fictional_phone_share, foreign)[inv]
    typo = rng.random(n) < p.phone_typo_share
    phone[typo] = [s[:-1] for s in phone[typo]]  # a digit short
    at, inv = _entities(w, "address")
    address = addresses(rng, w.country[at])[inv]
    flat = pd.notna(w.unit)
    address[flat] = [a.replace(", ", f" {u}, ", 1) for a, u in zip(address[flat], w.unit[flat])]
    at, inv = _entities(w, "person")
    ssn = hex_ids(rng, len(at), 32)[inv]
    at, inv = _entities(w, "device")
    device, agent = (values[inv] for values in devices(rng, len(at)))
    forced = pd.notna(w.agent)
    agent[forced] = w.agent[forced]
    # Identical iPhones on the same iOS version give the same low-entropy browser fingerprint.
    iphone = np.flatnonzero(pd.Series(agent).str.startswith("Mozilla/5.0 (iPhone").to_numpy())
    twins = iphone[rng.random(len(iphone)) < p.fingerprint_collision_share]
    common = hex_ids(rng, max(3, n // 20000), 16)
    device[twins] = common[rng.integers(0, len(common), len(twins))]
    at, inv = _entities(w, "payment")
    payment = payment_tokens(rng, len(at))[inv]
    return {"email": email, "phone": phone, "ip": w.ip.copy(), "device_id": device, "user_agent": agent,
            "payment_id": payment, "country": w.country.copy(), "org_id": w.org, "ssn_hash": ssn,
            "address": address}


def _noise(rng, p: IdentityParams, columns: dict[str, np.ndarray]) -> None:
    """What real application forms hold besides the truth: gaps, placeholders, odd spellings."""
    n = len(columns["email"])
    for column, share in p.missing:
        columns[column][rng.random(n) < share] = None
    placeholder_ids = np.asarray([hashlib.sha256(v.encode()).hexdigest() for v in _PLACEHOLDER_IDS], dtype=object)
    for column, values in (("phone", _PLACEHOLDER_PHONES), ("email", _PLACEHOLDER_EMAILS),
                           ("ssn_hash", placeholder_ids), ("address", _PLACEHOLDER_ADDRESSES)):
        at = rng.random(n) < p.placeholder_share
        columns[column][at] = pick(rng, values, int(at.sum()))
    shout = np.flatnonzero((rng.random(n) < 0.04) & pd.notna(columns["email"]))
    columns["email"][shout] = [e.capitalize() for e in columns["email"][shout]]
    country = columns["country"]
    country[(country == "GB") & (rng.random(n) < 0.1)] = "UK"
    lower = rng.random(n) < 0.01
    country[lower] = [c.lower() for c in country[lower]]
    junk = rng.random(n) < 0.0015  # a proxy's private address, or none, in the forwarded-for header
    columns["ip"][junk] = pick(rng, words("192.168.1.1 10.0.0.1 0.0.0.0"), int(junk.sum()))


def build(accounts: int, seed: int, params: IdentityParams) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Signups and labels of one identity world, in application order, and its number of hard rings."""
    rng = np.random.default_rng([seed, 0x1D])
    w = _World(accounts, rng, params)
    _fraud(w)
    _legit(w)
    _access(w)
    columns = _values(w)
    _noise(rng, params, columns)
    order = np.lexsort((rng.random(accounts), w.t))
    created = timestamps(w.t[order], params.window_days)
    account_id = "C" + (10_000_000 + np.cumsum(rng.integers(1, 4, accounts))).astype(str).astype(object)
    signups = pd.DataFrame({"account_id": account_id, "created_at": created}
                           | {name: values[order] for name, values in columns.items()})
    labels = ring_labels(account_id, w.ring[order], w.scenario[order], w.group[order])
    return signups, labels, w.hard_rings


def generate(out_dir, *, accounts: int, seed: int, params: IdentityParams | None = None) -> FamilyFiles:
    """The identity family's signups and labels (Parquet), with ground truth; no usage file."""
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"the identity family needs at least {MIN_ACCOUNTS} accounts, got {accounts}")
    signups, labels, hard = build(accounts, seed, params or IdentityParams())
    files = write_family(out_dir, signups, labels, usage=None, identifiers=IDENTIFIERS)
    files.counts["hard_rings"] = hard
    return files
