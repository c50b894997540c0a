"""IP addresses, and where signups come from (``Networks``).

Each country's ISP and carrier address space, VPN exits, IPv4 and IPv6 renderers, and
``Networks``: home lines, carriers' shared gateways, VPN exits, business lines.

Shared by the identity and signup_log families.
"""

from __future__ import annotations

import numpy as np

from .draws import _numerals, pick, words


# Country: residential IPv4 first octets, residential IPv6 /32s, mobile carriers' IPv6 /32s.
_IP_SPACE = {
    "US": ("24 50 67 68 71 73 75 76 96 98 99 107 108 174", "2601:646 2600:1700 2603:8000 2605:a601",
           "2607:fb90 2600:387 2600:1004"),
    "CA": ("24 64 70 99 142 173 174 184", "2607:fea8 2001:56a", "2605:8d80"),
    "GB": ("2 31 51 81 82 86 90 92 94 109", "2a00:23c5 2a02:c7c 2a01:4b00", "2a01:4c8"),
    "AU": ("1 49 58 101 110 120 121 124", "2001:8003 2403:5800", "2001:8004"),
    "DE": ("2 46 77 79 84 87 88 91 93", "2003:e6 2a02:810b 2a02:8108", "2a01:598"),
    "FR": ("2 31 37 78 80 82 86 88 90 92", "2a01:e0a 2a01:cb00 2a02:8428", "2a01:cd00"),
    "ES": ("2 31 37 77 79 80 81 83 85 88", "2a0c:5a80 2a02:9000", "2a02:9100"),
    "MX": ("177 187 189 200 201", "2806:2f0 2806:10a6", "2806:105e"),
    "BR": ("138 177 179 186 187 189 191 200 201", "2804:14c 2804:7f0", "2804:18"),
    "IN": ("49 103 106 117 122 157 182 183", "2401:4900 2405:201", "2409:4060 2401:4900"),
    "NL": ("31 62 77 80 83 84 86 94 145", "2a02:a46 2001:1c00", "2a02:a44"),
}
MOBILE_IPV6_SHARE = 0.3  # of mobile signups, over the carrier's IPv6 rather than its IPv4 gateways
_VPN_NETS = words("45.134 185.220 146.70 89.187 193.32 37.120 194.35 156.146 138.199 185.212 91.219 198.54 "
                  "104.28 172.98 23.106")


def ipv4(rng, heads, n: int) -> np.ndarray:
    """Random addresses in the networks named by `heads` ("73" for 73.0.0.0/8, "45.134" for a /16)."""
    heads = pick(rng, words(heads) if isinstance(heads, str) else heads, n)
    dec = _numerals(10, 256)
    b, c, d = rng.integers(0, 256, size=n), rng.integers(0, 256, size=n), rng.integers(1, 255, size=n)
    two = np.asarray(["." in h for h in heads], dtype=bool)
    return heads + "." + np.where(two, dec[c] + "." + dec[d], dec[b] + "." + dec[c] + "." + dec[d])


def ipv6(rng, nets_64: np.ndarray) -> np.ndarray:
    """One address per /64 in `nets_64`, with a random (privacy) interface id."""
    hx = _numerals(16, 65536)
    iid = rng.integers(0, 65536, size=(len(nets_64), 4))
    return nets_64 + ":" + hx[iid[:, 0]] + ":" + hx[iid[:, 1]] + ":" + hx[iid[:, 2]] + ":" + hx[iid[:, 3]]


def ipv6_64(rng, countries: np.ndarray, mobile: bool = False) -> np.ndarray:
    """A customer /64 per row ("2601:646:1a2b:3c4d") in the country's ISP (or carrier) /32s."""
    out = np.empty(len(countries), dtype=object)
    hx = _numerals(16, 65536)
    for code in np.unique(countries):
        at = np.flatnonzero(countries == code)
        hextets = rng.integers(0, 65536, size=(len(at), 2))
        prefixes = pick(rng, words(_IP_SPACE[code][2 if mobile else 1]), len(at))
        out[at] = prefixes + ":" + hx[hextets[:, 0]] + ":" + hx[hextets[:, 1]]
    return out


class Networks:
    """Where signups come from: home lines, carriers' shared gateways, VPN exits, business lines."""

    def __init__(self, rng, accounts: int, mobile_accounts_per_ip: float, vpn_accounts_per_ip: float,
                 mobile_share: float, vpn_share: float, countries: dict[str, float]):
        self.rng = rng
        self._mobile: dict[str, np.ndarray] = {}
        self._mobile_size = {c: max(6, round(accounts * share * mobile_share / mobile_accounts_per_ip))
                             for c, share in countries.items()}
        self._vpn = ipv4(rng, _VPN_NETS, max(12, round(accounts * vpn_share / vpn_accounts_per_ip)))

    def home(self, countries: np.ndarray, v6_share: float) -> np.ndarray:
        """A fresh residential address per row (IPv4, or IPv6 for `v6_share` of them)."""
        out = self.business(countries)
        at = np.flatnonzero(self.rng.random(len(countries)) < v6_share)
        out[at] = ipv6(self.rng, ipv6_64(self.rng, countries[at]))
        return out

    def mobile(self, countries: np.ndarray) -> np.ndarray:
        """Carriers' gateways: IPv4 addresses shared by strangers, or an IPv6 address of the device."""
        out = np.empty(len(countries), dtype=object)
        for code in np.unique(countries):
            at = np.flatnonzero(countries == code)
            if code not in self._mobile:  # a carrier's pool: a few /24s of gateway addresses
                size = self._mobile_size.get(code, 6)
                nets = np.asarray([ip.rsplit(".", 1)[0] + "." for ip in
                                   ipv4(self.rng, _IP_SPACE[code][0], max(2, size // 40))], dtype=object)
                self._mobile[code] = nets[self.rng.integers(0, len(nets), size)] + \
                    _numerals(10, 256)[self.rng.integers(1, 255, size)]
            pool = self._mobile[code]
            out[at] = pool[self.rng.integers(0, len(pool), len(at))]
        v6 = np.flatnonzero(self.rng.random(len(countries)) < MOBILE_IPV6_SHARE)
        out[v6] = ipv6(self.rng, ipv6_64(self.rng, countries[v6], mobile=True))
        return out

    def vpn(self, n: int) -> np.ndarray:
        """Commercial VPN exits, shared by whoever is connected through them."""
        return self._vpn[self.rng.integers(0, len(self._vpn), n)]

    def business(self, countries: np.ndarray) -> np.ndarray:
        """A fresh IPv4 address per row from the country's ISPs (home, office, shop, campus lines)."""
        out = np.empty(len(countries), dtype=object)
        for code in np.unique(countries):
            at = np.flatnonzero(countries == code)
            out[at] = ipv4(self.rng, _IP_SPACE[code][0], len(at))
        return out
