"""The identity world under construction: who each account is and which values it shares.

``_World`` gives every account values of its own (integer ids per kind) for the rings and
honest groups to share out; the text of each value is written at the end (``assemble``).
"""

from __future__ import annotations

import numpy as np

from .draws import pick
from .networks import Networks
from .params import IdentityParams

_KINDS = ("person", "phone", "address", "email", "device", "payment")


class Registrants:
    """Accounts being given a country, a kind, a ring or group, a time and an IP, in turn.

    Shared by the identity and signup-log families: ``take`` hands out the next accounts,
    ``households`` draws households to fill a number of accounts.
    """

    def __init__(self, accounts: int, rng, params):
        self.n, self.rng, self.p = accounts, rng, params
        self.used, self.rings, self.hard_rings = 0, 0, 0
        weights = np.asarray([w for _, w in params.countries], dtype=float)
        self.codes = np.asarray([c for c, _ in params.countries], dtype=object)
        self.country_p = weights / weights.sum()
        self.net = Networks(rng, accounts, params.mobile_accounts_per_ip, params.vpn_accounts_per_ip,
                            params.mobile_share, params.vpn_share, dict(zip(self.codes, self.country_p)))
        self.country = np.empty(accounts, dtype=object)
        self.scenario = np.empty(accounts, dtype=object)
        self.ring = np.full(accounts, -1)
        self.group = np.full(accounts, None, dtype=object)
        self.t = np.zeros(accounts)
        self.ip = np.full(accounts, None, dtype=object)
        self.surname_of = np.arange(accounts)  # whose family name

    def countries(self, k: int) -> np.ndarray:
        return pick(self.rng, self.codes, k, self.country_p)

    def take(self, k: int, scenario: str, country) -> np.ndarray:
        """The next `k` accounts, of `scenario`, in `country` (one code or one per account)."""
        at = np.arange(self.used, self.used + k)
        self.used += k
        self.scenario[at], self.country[at] = scenario, country
        return at

    def households(self, total: int):
        """Households (sizes from ``params.household_sizes``) filling at most `total` accounts.

        Returns (accounts, household of each, each household's first position, household
        sizes, countries), or None when not even one household fits.
        """
        choices, weights = zip(*self.p.household_sizes)
        drawn = self.rng.choice(choices, size=total // 2 + 1, p=np.asarray(weights) / sum(weights))
        hs = drawn[np.cumsum(drawn) <= total]
        k = len(hs)
        if k == 0:
            return None
        country = self.countries(k)
        start = np.cumsum(hs) - hs
        at = self.take(int(hs.sum()), "household", np.repeat(country, hs))
        return at, np.repeat(np.arange(k), hs), start, hs, country


class _World(Registrants):
    """Accounts under construction: who they are, and which values they share.

    Values are integer ids per kind (``ids``): accounts with the same id share the value, and
    every account starts with one of its own. The text of each value is written at the end.
    """

    def __init__(self, accounts: int, rng, params: IdentityParams):
        super().__init__(accounts, rng, params)
        self.next_id = accounts
        self.ids = {kind: np.arange(accounts) for kind in _KINDS}
        self.name_of = np.arange(accounts)  # whose first name the account carries
        self.line_of = np.arange(accounts)  # whose network line it applies from
        self.unit = np.full(accounts, None, dtype=object)  # flat number written into the address
        self.mail_domain = np.full(accounts, None, dtype=object)  # work, campus or forced provider
        self.org = np.full(accounts, None, dtype=object)
        self.dotted = np.zeros(accounts, dtype=bool)  # writes a shared Gmail address with its own dots
        self.agent = np.full(accounts, None, dtype=object)  # user agent sent by fraud tooling

    def fresh(self, k: int) -> np.ndarray:
        self.next_id += k
        return np.arange(self.next_id - k, self.next_id)

    def share(self, kind: str, at: np.ndarray, values: int, use: float = 1.0) -> np.ndarray:
        """Members of `at` (each with probability `use`) take one of `values` new shared values."""
        ids = self.fresh(values)
        who = at[self.rng.random(len(at)) < use]
        self.ids[kind][who] = ids[self.rng.integers(0, values, len(who))]
        return who

    def share_ips(self, at: np.ndarray, pool: np.ndarray, use: float = 1.0) -> None:
        who = at[self.rng.random(len(at)) < use]
        self.ip[who] = pool[self.rng.integers(0, len(pool), len(who))]
