"""Identities: e-mail address, phone number and payment token per account.

People's addresses at their country's providers, campus and office mail domains, +tags and
Gmail dot variants, farms' throwaway addresses and domains; numbers written the ways people
type them, farms' virtual numbers; premium subscribers' tokens, shared in families and bought
with stolen cards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import _BASE62, _DIGITS, _OCTETS, _TWO_DIGITS, _random_text, _text, _zipf
from .params import AMP, CAMPUS, HOUSE, MULTI, SLOW, SOCK
from .population import _university
from .tables import _CAMPUS_TLD, _COUNTRIES, _FIRST, _LAST, _NICKS, _PLACES, CODES

_YEARS = np.array([str(y) for y in range(1960, 2011)], dtype=object)
_WEBMAIL = (np.array(["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "mail.com"], dtype=object),
            np.array([.55, .2, .1, .1, .05]))
_CHEAP_TLDS = ("xyz", "top", "site", "online", "shop", "click")


def _person_emails(rng, country: np.ndarray) -> np.ndarray:
    """Addresses people pick: name patterns with numbers and years, at their country's usual providers."""
    n = len(country)
    fi, li = rng.integers(0, len(_FIRST), n), rng.integers(0, len(_LAST), n)
    first, last = _FIRST[fi], _LAST[li]
    initial = np.array([f[0] for f in _FIRST], dtype=object)[fi]
    nn, year = _TWO_DIGITS[rng.integers(0, 100, n)], _YEARS[rng.integers(15, 50, n)]
    nick = _NICKS[rng.integers(0, len(_NICKS), n)] + _OCTETS[rng.integers(100, 256, n)]
    patterns = (first + "." + last, first + last + nn, first + "_" + last, initial + last + nn,
                first + year, first + "." + last + nn, last + "." + first, nick)
    style = rng.choice(len(patterns), n, p=[.16, .2, .08, .14, .14, .1, .06, .12])
    local = np.choose(style, patterns)
    domain = np.empty(n, dtype=object)
    for c, row in enumerate(_COUNTRIES):
        at = country == c
        options = np.array(["gmail.com", *row.mail.split()], dtype=object)
        weights = np.r_[.5, .5 * _zipf(len(options) - 1)]
        domain[at] = options[rng.choice(len(options), int(at.sum()), p=weights)]
    return local + "@" + domain


def _mailbox(email: np.ndarray) -> list:
    """The mailbox each address reaches: +tags dropped everywhere, dots too at Gmail."""
    out = []
    for address in email.tolist():
        if address is None:
            out.append(None)
            continue
        local, domain = address.split("@")
        local = local.split("+")[0]
        out.append(f"{local.replace('.', '') if domain == 'gmail.com' else local}@{domain}")
    return out


def _unique(rng, email: np.ndarray, honest: np.ndarray) -> np.ndarray:
    """Honest people never share a mailbox: add digits until each honest address reaches its own."""
    email = email.copy()
    present = email != None
    box = np.array(_mailbox(email), dtype=object)
    for _ in range(30):
        shared = pd.Series(box, dtype=object).duplicated().to_numpy()
        raw = pd.Series(email, dtype=object).duplicated().to_numpy()
        clash = np.flatnonzero(((shared & honest) | raw) & present)
        if not len(clash):
            break
        digits = _TWO_DIGITS[rng.integers(0, 100, len(clash))]
        email[clash] = [e.replace("@", f"{d}@") for e, d in zip(email[clash], digits)]
        box[clash] = _mailbox(email[clash])
    return email


def _farm_emails(rng, pop, email) -> None:
    """Fraud addresses: random webmail names, Gmail dot and plus variants of a few mailboxes, or a cheap own domain."""
    for r in range(len(pop.ring_kind)):
        start, size, kind, hard = pop.ring_start[r], pop.ring_size[r], pop.ring_kind[r], pop.ring_hard[r]
        members = slice(start, start + size)
        style = rng.choice(4, p=[.2, .4, .2, .2] if not hard else [.6, .4, 0, 0])
        if kind == SLOW or style == 0:
            continue  # addresses like anyone's (already drawn)
        if style == 1 or kind == AMP and style == 2:
            first, last = _FIRST[rng.integers(0, len(_FIRST), size)], _LAST[rng.integers(0, len(_LAST), size)]
            tail = (_OCTETS[rng.integers(10, 100, size)] + _OCTETS[rng.integers(10, 100, size)] if kind == SOCK
                    else _random_text(rng, size, 3) + _TWO_DIGITS[rng.integers(0, 100, size)])
            domain = _WEBMAIL[0][rng.choice(len(_WEBMAIL[0]), size, p=_WEBMAIL[1])]
            email[members] = first + last + tail + "@" + domain
        elif style == 2:
            bases = [f"{f}{l}{rng.integers(10, 99)}" for f, l in zip(
                _FIRST[rng.integers(0, len(_FIRST), size)], _LAST[rng.integers(0, len(_LAST), size)])]
            per_box = rng.integers(3, 9)
            out = []
            for j in range(size):
                base, variant = bases[j // per_box], j % per_box
                dotted = f"{base[:variant]}.{base[variant:]}" if 0 < variant < len(base) else base
                out.append(f"{dotted}+{variant}@gmail.com" if variant >= len(base) else f"{dotted}@gmail.com")
            email[members] = np.array(out, dtype=object)
        else:
            domain = f"{_NICKS[rng.integers(len(_NICKS))]}{_PLACES[rng.integers(len(_PLACES))]}{rng.integers(10, 99)}"
            email[members] = _random_text(rng, size, 8) + f"@{domain}.{_CHEAP_TLDS[rng.integers(len(_CHEAP_TLDS))]}"


def _phone_numbers(rng, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mobile numbers written the ways people type them (E.164, spaced, national, with 00), and their E.164 digits."""
    n = len(country)
    out, key = np.empty(n, dtype=object), np.empty(n, dtype=object)
    for c, row in enumerate(_COUNTRIES):
        at = np.flatnonzero(country == c)
        if not len(at):
            continue
        dial, trunk, prefixes, width = row.dial, row.trunk, row.prefixes.split(), row.digits
        digits = _DIGITS[rng.integers(0, 10, size=(len(at), width))]
        choice = rng.integers(0, len(prefixes), len(at))
        for k, prefix in enumerate(prefixes):
            digits[choice == k, :len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
        if dial == "1":  # North American exchange codes start with 2-9
            digits[:, 3] = _DIGITS[rng.integers(2, 10, len(at))]
        national, head, mid, rest = (_text(digits), _text(digits[:, :3]), _text(digits[:, 3:6]), _text(digits[:, 6:]))
        spaced = f"+{dial} " + head + " " + mid + " " + rest
        if dial == "1":
            local, other = "(" + head + ") " + mid + "-" + rest, head + "-" + mid + "-" + rest
        else:
            local, other = trunk + national, f"00{dial}" + national
        style = rng.choice(4, len(at), p=[.35, .25, .3, .1])
        out[at] = np.choose(style, (f"+{dial}" + national, spaced, local, other))
        key[at] = dial + national
    return out, key


def _identities(p, pop, acc, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Email, phone and payment token per account."""
    n = len(pop.kind)
    fraud = pop.ring >= 0
    gk = np.where(pop.group >= 0, pop.group_kind[np.maximum(pop.group, 0)], -1)
    email = _person_emails(rng, acc.country)
    for g in np.flatnonzero(pop.group_kind == CAMPUS):  # half of a campus uses its own mail domain
        start, size = pop.group_start[g], pop.group_size[g]
        place = _PLACES[g % len(_PLACES)] + ("" if g < len(_PLACES) else _PLACES[g // len(_PLACES) % len(_PLACES)][:4])
        domain = (f"{place}.{_CAMPUS_TLD[CODES[acc.group_country[g]]]}" if _university(g)
                  else f"{place}{('group', 'labs', 'health', 'logistics', 'media')[g % 5]}.com")
        use = start + np.flatnonzero(rng.random(size) < .5)
        first, last = _FIRST[rng.integers(0, len(_FIRST), len(use))], _LAST[rng.integers(0, len(_LAST), len(use))]
        email[use] = first + "." + last + "@" + domain
    without = rng.random(n) < .12  # signed up with a phone number only, as slow rings do too
    slow = (pop.ring >= 0) & (pop.ring_kind[np.maximum(pop.ring, 0)] == SLOW)
    email[without & (~fraud | slow)] = None
    multi = np.flatnonzero((gk == MULTI) & (np.arange(n) != pop.group_start[np.maximum(pop.group, 0)]))
    tagged = multi[rng.random(len(multi)) < .3]  # a second account on a +tag of the owner's Gmail
    owner = pop.group_start[pop.group[tagged]]
    gmail = np.array([e is not None and e.endswith("@gmail.com") for e in email[owner]], dtype=bool)
    tags = ("page", "art", "biz", "shop")
    email[tagged[gmail]] = [e.replace("@", f"+{tags[i % 4]}@") for i, e in enumerate(email[owner[gmail]])]
    _farm_emails(rng, pop, email)
    honest = ~fraud & (email != None)
    honest[tagged[gmail]] = False
    email = _unique(rng, email, honest)

    has_phone = rng.random(n) < p.phone_share
    rkind = np.where(fraud, pop.ring_kind[np.maximum(pop.ring, 0)], -1)
    has_phone[rkind == SOCK] = rng.random(int((rkind == SOCK).sum())) < .75
    has_phone[rkind == AMP] = rng.random(int((rkind == AMP).sum())) < .4
    has_phone |= email == None
    phone, number = _phone_numbers(rng, acc.country)
    for _ in range(10):  # one number, one person
        clash = np.flatnonzero(pd.Series(np.where(has_phone, number, None)).duplicated().to_numpy() & has_phone)
        if not len(clash):
            break
        phone[clash], number[clash] = _phone_numbers(rng, acc.country[clash])
    phone = np.where(has_phone, phone, None)
    for r in np.flatnonzero(pop.ring_kind == SOCK):  # virtual numbers, some foreign, reused on easy farms
        start, size = pop.ring_start[r], pop.ring_size[r]
        origin = acc.ring_country[r] if rng.random() < .7 else rng.choice([7, 9, 10, 11, 12])
        numbers = _phone_numbers(rng, np.full(size, origin))[0]
        if not pop.ring_hard[r]:
            numbers = numbers[rng.integers(0, max(1, int(size / 1.6)), size)]
        phone[start:start + size] = np.where(has_phone[start:start + size], numbers, None)

    premium = (rng.random(n) < p.premium_share) & ~fraud
    payment = np.where(premium, "pm_" + _random_text(rng, n, 24, _BASE62), None)
    family = (gk == HOUSE) & (rng.random(n) < .5) & (np.arange(n) != pop.group_start[np.maximum(pop.group, 0)])
    first = pop.group_start[pop.group[family]]
    payment[family] = np.where(payment[first] != None, payment[first], payment[family])
    for r in np.flatnonzero(~pop.ring_hard & (rng.random(len(pop.ring_kind)) < .15)):  # a stolen card buys badges
        start, size = pop.ring_start[r], pop.ring_size[r]
        cards = "pm_" + _random_text(rng, rng.integers(1, 3), 24, _BASE62)
        use = start + np.flatnonzero(rng.random(size) < .4)
        payment[use] = cards[rng.integers(0, len(cards), len(use))]
    return email, phone, payment
