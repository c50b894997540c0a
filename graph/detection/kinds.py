"""The evidence kinds the graph links on: family, weight, name in words and sharing class of each.

The sharing class (the data contract's: personal, household, organisational, network,
client, behavioural) says how much sharing a kind sees among honest users. Declared
identifiers carry theirs in the kind (``custom:<class>:<column>``, see
``ingest.identifiers.declared_identifier``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from ringwatch.ingest.identifiers import CUSTOM_PREFIX
from ringwatch.ingest.schema import DEFAULT_CLASS, SHARING_CLASSES


@dataclass(frozen=True)
class EvidenceKind:
    """How one kind of shared identifier counts as evidence."""

    family: str
    weight: float
    noun: str
    sharing: str = DEFAULT_CLASS


# Families group kinds that are not independent (a shared IP implies a shared /24), so a
# pair of accounts needs evidence from two families, not two views of one fact.
KINDS: dict[str, EvidenceKind] = {
    "payment": EvidenceKind("payment", 1.0, "payment instrument", "household"),
    "device": EvidenceKind("device", 1.0, "device", "household"),
    "phone": EvidenceKind("phone", 1.0, "phone number", "personal"),
    "email": EvidenceKind("email", 1.0, "email address", "personal"),
    "ip": EvidenceKind("network", 0.6, "signup IP", "household"),
    "ip_net": EvidenceKind("network", 0.25, "signup network", "network"),
    "request_ip": EvidenceKind("network", 0.35, "request IP", "network"),
    "user_agent": EvidenceKind("client", 0.5, "client string", "client"),
    "org": EvidenceKind("org", 0.8, "declared organisation", "organisational"),
    "email_domain": EvidenceKind("org", 0.5, "email domain", "organisational"),
    "prompt": EvidenceKind("behaviour", 0.5, "prompt template", "behavioural"),
    "coactivity": EvidenceKind("behaviour", 1.0, "co-activity", "behavioural"),
    "coregistration": EvidenceKind("network", 1.0, "signup run", "behavioural"),
    "pool_activity": EvidenceKind("behaviour", 1.0, "activity in step through one address pool", "behavioural"),
}


def kind_info(kind: str) -> EvidenceKind:
    """Evidence settings for a kind; user-declared identifiers count like a device or card, in their own family."""
    if kind in KINDS:
        return KINDS[kind]
    if kind.startswith(CUSTOM_PREFIX):
        sharing, _, column = kind[len(CUSTOM_PREFIX):].rpartition(":")
        return EvidenceKind(kind, 1.0, column, sharing if sharing in SHARING_CLASSES else DEFAULT_CLASS)
    return EvidenceKind(kind, 0.5, kind)


# Co-activity and shared prompt templates are both behaviour: one family for the two-family
# rule. Co-registration is timing on one address: it belongs with the network it ran on.
BEHAVIOUR = KINDS["prompt"].family
NETWORK = KINDS["ip"].family


def kind_table(kinds: list[str], alone: dict[str, float] | None = None) -> pd.DataFrame:
    """kind, family, weight, alone for every kind the graph links on (the stored kinds plus the two from usage).

    ``alone`` maps a sharing class to the family score at which a family of that class links
    two accounts on its own; a family of several classes links alone only if all of them do
    (the lowest bar among its kinds is not enough), so a signup IP never links alone
    because the request IPs of its family are network sharing.
    """
    names = sorted(set(kinds) | {"request_ip", "prompt"})
    info = [kind_info(k) for k in names]
    table = pd.DataFrame({"kind": names, "family": [i.family for i in info], "weight": [i.weight for i in info],
                          "alone": [(alone or {}).get(i.sharing, float("nan")) for i in info]})
    # One bar per family: the highest of its kinds', and none if any kind of it never links alone.
    bar = table.groupby("family")["alone"].transform(lambda a: a.max() if a.notna().all() else float("nan"))
    return table.assign(alone=bar)
