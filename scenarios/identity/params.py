"""The identity family's name, declared identifiers and ``IdentityParams`` (rates, sizes, mixes)."""

from __future__ import annotations

from dataclasses import dataclass

FAMILY = "identity"
IDENTIFIERS = ("ssn_hash:personal", "address:household")
MIN_ACCOUNTS = 1000


@dataclass(frozen=True)
class IdentityParams:
    """Rates, sizes and mixes of the identity world; shares are of all accounts unless noted."""

    window_days: int = 270
    fraud_share: float = 0.055
    # Share of fraud accounts per ring kind; ring sizes (smallest, largest, power-law exponent).
    ring_mix: tuple = (("first_party_ring", 0.45), ("synthetic_identity", 0.30), ("mule", 0.25))
    ring_sizes: tuple = (("first_party_ring", 3, 60, 1.5), ("synthetic_identity", 3, 25, 1.9),
                         ("mule", 3, 40, 1.6))
    hard_ring_share: float = 0.35  # rings that keep their sharing thin and their networks clean
    # Honest groups, as shares of legitimate accounts, and their sizes.
    household_share: float = 0.34
    household_sizes: tuple = ((2, 0.52), (3, 0.24), (4, 0.16), (5, 0.08))
    buildings: tuple = (("apartment", 0.012, 8, 80), ("dorm", 0.007, 20, 150), ("care_home", 0.004, 8, 40))
    office_share: float = 0.08
    office_sizes: tuple = (4, 400, 1.8)
    branch_share: float = 0.03
    branch_sizes: tuple = (15, 300, 1.6)
    hotspot_share: float = 0.03
    repeat_applicant_share: float = 0.012
    # How honest people connect and share.
    home_ip_use: float = 0.85  # a household member applies from the home line
    ipv6_home_share: float = 0.22
    mobile_share: float = 0.35  # loners applying over a mobile carrier
    vpn_share: float = 0.03
    mobile_accounts_per_ip: float = 2.0  # carrier-grade NAT: strangers behind one address
    vpn_accounts_per_ip: float = 4.0
    household_device: float = 0.35
    household_card: float = 0.25
    household_landline: float = 0.15
    parent_phone: float = 0.12
    joint_email: float = 0.04
    # Noise on every account, honest or not.
    fictional_phone_share: float = 0.02
    foreign_phone_share: float = 0.03
    phone_typo_share: float = 0.005
    missing: tuple = (("phone", 0.04), ("device_id", 0.08), ("payment_id", 0.25), ("user_agent", 0.02))
    placeholder_share: float = 0.004  # per column: phone, email, ssn_hash, address
    fingerprint_collision_share: float = 0.01  # of iPhone browser fingerprints
    countries: tuple = (("US", 40), ("GB", 12), ("DE", 8), ("IN", 7), ("FR", 6), ("CA", 6), ("BR", 6),
                        ("AU", 4), ("ES", 4), ("MX", 4), ("NL", 3))
