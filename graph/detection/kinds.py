"""The evidence kinds the graph links on: the family each belongs to, its weight and its name in words."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class EvidenceKind:
    """How one kind of shared identifier counts as evidence."""

    family: str
    weight: float
    noun: str


# Families group kinds that are not independent (a shared IP implies a shared /24), so a
# pair of accounts needs evidence from two families, not two views of one fact.
KINDS: dict[str, EvidenceKind] = {
    "payment": EvidenceKind("payment", 1.0, "payment instrument"),
    "device": EvidenceKind("device", 1.0, "device"),
    "phone": EvidenceKind("phone", 1.0, "phone number"),
    "email": EvidenceKind("email", 1.0, "email address"),
    "ip": EvidenceKind("network", 0.6, "signup IP"),
    "ip_net": EvidenceKind("network", 0.25, "signup network"),
    "request_ip": EvidenceKind("network", 0.35, "request IP"),
    "user_agent": EvidenceKind("client", 0.5, "client string"),
    "org": EvidenceKind("org", 0.8, "declared organisation"),
    "email_domain": EvidenceKind("org", 0.5, "email domain"),
    "prompt": EvidenceKind("behaviour", 0.5, "prompt template"),
    "coactivity": EvidenceKind("behaviour", 1.0, "co-activity"),
}


def kind_info(kind: str) -> EvidenceKind:
    """Evidence settings for a kind; user-declared identifiers count like a device or card."""
    if kind in KINDS:
        return KINDS[kind]
    if kind.startswith("custom:"):
        return EvidenceKind(kind, 1.0, kind.split(":", 1)[1])
    return EvidenceKind(kind, 0.5, kind)


# Co-activity and shared prompt templates are both behaviour: one family for the two-family rule.
BEHAVIOUR = KINDS["prompt"].family


def kind_table(kinds: list[str]) -> pd.DataFrame:
    """kind, family, weight for every kind the graph links on (the stored kinds plus the two from usage)."""
    names = sorted(set(kinds) | {"request_ip", "prompt"})
    info = [kind_info(k) for k in names]
    return pd.DataFrame({"kind": names, "family": [i.family for i in info], "weight": [i.weight for i in info]})
