"""Identity-only family: customer applications of a bank or marketplace, no usage at all.

Each signup carries a national-id hash (``ssn_hash``: the SSN in the US, the national
insurance or tax number elsewhere) and a normalised street ``address`` besides the contract
columns. Fraud follows the first-party fraud rings of Neo4j's public fraud-detection
example, plus two common neighbours:

- ``first_party_ring``: applicants drawing national id, phone and address from pools smaller
  than the ring, each sharing one or two of them with an earlier member, so the ring is a web;
- ``synthetic_identity``: made-up people who each look plausible but share a phone, an
  address and a device with the other identities of their maker;
- ``mule``: otherwise unrelated identities opened on a few devices (sometimes funded from
  the same cards) by whoever recruited them.

Honest sharing is common and is the point of the family: households (address, home line,
a tablet, a card, a landline, a parent's phone on a child's account, a joint inbox),
apartment buildings, dormitories and care homes whose residents share an address string
(care homes also a front-desk phone and a staff tablet), offices, bank branches or shops
where staff open accounts on a counter terminal, public Wi-Fi, mobile carriers' shared
gateways, VPN exits, identical iPhones with identical browser fingerprints, people who
apply twice, and the noise of real forms: placeholder phones and e-mails typed to get past
a form, the hash of an all-zero national id, numbers in fictional or test ranges, typos.

The value vocabulary and renderers (names, e-mails, phones, addresses, networks, devices,
timing) are shared with the ``signup_log`` family.

Modules: the renderers, each with its vocabulary, in ``draws``, ``people``, ``phones``,
``networks``, ``devices`` and ``timing``; the family in ``params`` (name, identifiers,
``IdentityParams``), ``world`` (accounts under construction), ``rings``, ``honest`` and
``assemble`` (the text of every value, noise, ``build`` and ``generate``).
"""

from __future__ import annotations

from .assemble import build, generate
from .params import FAMILY, IDENTIFIERS, MIN_ACCOUNTS, IdentityParams

__all__ = ["FAMILY", "IDENTIFIERS", "MIN_ACCOUNTS", "IdentityParams", "build", "generate"]
