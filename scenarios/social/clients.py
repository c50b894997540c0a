"""Clients: the platform's surfaces, the app's and browsers' user agents, and ``_Clients``.

``_Clients`` holds the user-agent vocabulary (each with its surface) and the honest
population's weights over it, per surface.
"""

from __future__ import annotations

import numpy as np

# Clients. The official app's user agent carries only app version, OS version and (Android)
# phone model, so the common ones are shared by thousands; browsers freeze most of theirs.
SURFACES = ("ios", "android", "web", "mobile_web")
IOS, ANDROID, WEB, MWEB = range(4)
# Most phones auto-update, so the latest app build on the latest OS is the single most common client.
_APP = (("11.46.0", "11.45.1", "11.44.0", "11.41.2", "11.36.0", "11.20.1"), (.55, .17, .1, .07, .06, .05))
_IOS = (("27.1", "27.0.1", "26.6.1", "26.5", "18.7.2", "17.7.1"), (.5, .1, .2, .07, .09, .04))
_ANDROID = (("17", "16", "15", "14", "13"), (.2, .4, .2, .12, .08))
_PHONES = ("SM-S938B", "SM-A566B", "SM-A165F", "SM-A055F", "Pixel 10", "SM-S931U", "2409BRN2CA", "Pixel 9a",
           "24117RN76G", "CPH2661", "V2440", "RMX3990", "SM-A366B", "moto g 5G - 2025", "Infinix X6873",
           "TECNO LI9", "motorola edge 2025", "SM-G991B")
_EMULATORS = ("SM-G955N", "SM-N976N", "ASUS_Z01QD", "sdk_gphone64_x86_64", "SM-G973N", "vbox86p")
_FARM_PHONES = ("SM-A055F", "Infinix X6873", "TECNO LI9", "24117RN76G")
_CHROME = "Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
_WIN, _MAC = "Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7"
_WEBKIT = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
_WEB = (
    (_CHROME.format(os=_WIN, v=154), .30), (_CHROME.format(os=_WIN, v=153), .10), (_CHROME.format(os=_MAC, v=154), .12),
    (_CHROME.format(os=_WIN, v=154) + " Edg/154.0.0.0", .10),
    (f"Mozilla/5.0 ({_MAC}) {_WEBKIT} Version/27.1 Safari/605.1.15", .14),
    (f"Mozilla/5.0 ({_MAC}) {_WEBKIT} Version/26.6 Safari/605.1.15", .06),
    (f"Mozilla/5.0 ({_WIN}; rv:158.0) Gecko/20100101 Firefox/158.0", .07),
    (f"Mozilla/5.0 ({_WIN}; rv:157.0) Gecko/20100101 Firefox/157.0", .03),
    (_CHROME.format(os="X11; Linux x86_64", v=154), .03),
    (_CHROME.format(os="X11; CrOS x86_64 16328.55.0", v=154), .05),
)
_MOBILE_WEB = (
    (f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) {_WEBKIT} Version/27.1 Mobile/15E148 Safari/604.1", .40),
    (_CHROME.format(os="Linux; Android 10; K", v=154).replace(" Safari/", " Mobile Safari/"), .45),
    (_CHROME.format(os="Linux; Android 10; K", v=136).replace(" Safari/", " Mobile Safari/")
     .replace("Chrome/", "SamsungBrowser/29.0 Chrome/"), .15),
)


def _ios_ua(app: str, ios: str) -> str:
    return f"Kestrel/{app} (iPhone; iOS {ios}; Scale/3.00)"


def _android_ua(app: str, android: str, phone: str) -> str:
    return f"Kestrel/{app} (Linux; Android {android}; {phone}) okhttp/4.12.0"


class _Clients:
    """The user-agent vocabulary and, per surface, the honest population's weights over it."""

    def __init__(self) -> None:
        self.ua: list[str] = []
        self.surface: list[int] = []
        self._index: dict[str, int] = {}
        self.honest: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        apps, app_w = _APP
        phone_w = 1.0 / np.arange(1, len(_PHONES) + 1)
        ios = [(_ios_ua(a, o), wa * wo) for a, wa in zip(apps, app_w) for o, wo in zip(*_IOS)]
        android = [(_android_ua(a, v, ph), wa * wv * wp) for a, wa in zip(apps, app_w)
                   for v, wv in zip(*_ANDROID) for ph, wp in zip(_PHONES, phone_w)]
        for surface, table in ((IOS, ios), (ANDROID, android), (WEB, _WEB), (MWEB, _MOBILE_WEB)):
            index = np.array([self.add(ua, surface) for ua, _ in table])
            weights = np.array([w for _, w in table], dtype=float)
            self.honest[surface] = (index, weights / weights.sum())

    def add(self, ua: str, surface: int) -> int:
        """Index of a user agent, added on first use."""
        if ua not in self._index:
            self._index[ua] = len(self.ua)
            self.ua.append(ua)
            self.surface.append(surface)
        return self._index[ua]

    def sample(self, rng, surface: np.ndarray) -> np.ndarray:
        """An honest user agent per entry of `surface`."""
        out = np.empty(len(surface), dtype=np.int64)
        for s, (index, weights) in self.honest.items():
            at = surface == s
            out[at] = index[rng.choice(len(index), size=int(at.sum()), p=weights)]
        return out
