"""Ring and account risk scores, and the words that explain them.

The ring score is a logistic combination of the ring features with fixed, documented
weights, so every score decomposes into per-feature contributions an analyst can read.
Sharing that a declared organisation or a company email domain explains (a corporate card,
an office IP) is discounted rather than counted as fraud evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .kinds import kind_info

# Log-odds contribution of each feature at full strength. Features marked in
# ORG_DISCOUNTED are multiplied by (1 - org_coherence): staff of one company share a card
# and an internal prompt template and sign up together for good reasons (and write their
# addresses one way: ``features._email_pattern`` discounts that part itself).
WEIGHTS: dict[str, float] = {
    "burst": 2.0,
    "coregistration": 3.0,
    "email_pattern": 1.5,
    "output_heavy": 2.0,
    "volume": 1.0,
    "template_exclusive": 2.0,
    "synchrony": 2.0,
    "even_traffic": 1.0,
    "rare_client": 1.0,
    "org_coherence": -1.0,
    "identity": 4.0,
    "identity_web": 2.0,
}
ORG_DISCOUNTED = frozenset({"identity", "identity_web", "coregistration", "template_exclusive", "synchrony"})
BIAS = -4.5


@dataclass(frozen=True)
class Model:
    """The ring score's weights: a log-odds weight per feature and a bias.

    ``prior`` is the documented one (``WEIGHTS``, ``BIAS``); ``ringwatch train`` fits others
    from analysts' labels. Every score stays a sum of per-feature contributions.
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    bias: float = BIAS
    version: str = "prior"


PRIOR = Model()


def contributions(features: dict[str, float], model: Model = PRIOR) -> dict[str, float]:
    """Each feature's log-odds contribution to the ring score."""
    org = features.get("org_coherence", 0.0)
    out = {}
    for name, weight in model.weights.items():
        value = features.get(name, 0.0) * weight
        if name in ORG_DISCOUNTED:
            value *= 1.0 - org
        out[name] = round(value, 4)
    return out


def ring_risk(features: dict[str, float], model: Model = PRIOR) -> float:
    """Risk in [0, 1] from the ring features."""
    return risk_of(contributions(features, model), model)


def risk_of(contributed: dict[str, float], model: Model = PRIOR) -> float:
    """Risk in [0, 1] from the features' contributions (``contributions``)."""
    z = model.bias + sum(contributed.values())
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _identity_text(details: dict) -> str:
    """The identity feature in words: how improbable the sharing is, the strongest kind, cards and devices."""
    kind = details.get("identity_kind")
    text = (f"members share identifiers this data rarely sees shared ({details.get('identity_nats', 0):.1f} nats"
            + (f"; strongest: {kind_info(kind).noun}" if isinstance(kind, str) else "") + ")")
    for held, distinct, noun in (("with_card", "cards", "payment instruments"), ("with_device", "devices", "devices")):
        n, k = int(details.get(held) or 0), int(details.get(distinct) or 0)
        if n >= 2 and k < n:
            text += f"; {n} accounts {'pay with' if held == 'with_card' else 'use'} only {k} {noun}"
    return text


def _web_text(details: dict) -> str:
    """The identity_web feature in words: how many personal values, of how many kinds, the members reuse."""
    pool, kinds = int(details.get("web_pool") or 0), int(details.get("web_kinds") or 0)
    return (f"members reuse a pool of {pool} personal identifiers between them ({kinds} "
            f"kind{'s' if kinds != 1 else ''}, each value held by several members)")


def _email_text(value: float, details: dict) -> str:
    """The email_pattern feature in words: a numbered stem, or addresses written alike."""
    alike = details.get("email_alike")
    if isinstance(alike, float) and not math.isnan(alike):
        return (f"{_pct(alike)} of emails are written alike, like {details.get('email_example')} "
                f"(only {_pct(details.get('email_format_share') or 0.0)} of all addresses are)")
    return f"{_pct(value)} of emails follow a numbered pattern like {details.get('email_stem')}"


def describe(features: dict[str, float], details: dict, model: Model = PRIOR,
             contributed: dict[str, float] | None = None) -> list[tuple[float, str]]:
    """Readable sentences for the features that raise or lower the score, strongest first.

    ``contributed``: the features' contributions, when the caller has them (``contributions``).
    """
    c = contributed if contributed is not None else contributions(features, model)
    ranked = sorted(((v, k) for k, v in c.items() if abs(v) >= 0.4), key=lambda t: (-abs(t[0]), t[1]))
    return [(v, _SENTENCES[k](features, details)) for v, k in ranked]


# Each feature in words, from the features and the details behind them (``size`` and the rest).
_SENTENCES = {
    "burst": lambda f, d: f"{_pct(f['burst'])} of the {d.get('size', 0)} accounts were created in signup bursts "
                          f"(within 48 hours)",
    "coregistration": lambda f, d: f"{_pct(f['coregistration'])} of the {d.get('size', 0)} accounts signed up in runs "
                                   f"from one address or network ({int(d.get('coreg_accounts') or 0)} within "
                                   f"{int(d.get('coreg_minutes') or 0)} minutes from {d.get('coreg_where')})",
    "email_pattern": lambda f, d: _email_text(f["email_pattern"], d),
    "output_heavy": lambda f, d: f"output/input token ratio {d.get('output_x', 0):.1f}x the population median",
    "volume": lambda f, d: f"requests per active day {d.get('volume_x', 0):.1f}x the population median",
    "template_exclusive": lambda f, d: f"{_pct(f['template_exclusive'])} of requests use {d.get('templates', 0)} prompt "
                                       f"templates shared inside this group and used by at most "
                                       f"{int(d.get('template_limit') or 0):,} accounts overall",
    "synchrony": lambda f, d: f"{_pct(f['synchrony'])} of requests were sent in the same time windows as other "
                              f"members (synchronized traffic)",
    "even_traffic": lambda f, d: "traffic is spread evenly across accounts (load-balanced)",
    "rare_client": lambda f, d: f"{_pct(f['rare_client'])} share the uncommon client string {d.get('client')!r}",
    "identity": lambda f, d: _identity_text(d),
    "identity_web": lambda f, d: _web_text(d),
    "org_coherence": lambda f, d: "sharing is explained by a declared organisation"
    + (f" {d['org']!r}" if d.get("org") else "")
    + (f" / company domain {d['domain']}" if d.get("domain") else "")
    + f" ({_pct(f['org_coherence'])} of accounts)",
}


def account_risk(ring_score: float, fit: float) -> float:
    """A member's risk: the ring's, scaled by how much of the ring's evidence the member itself shows."""
    return round(ring_score * (0.6 + 0.4 * fit), 4)
