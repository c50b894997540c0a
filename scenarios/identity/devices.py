"""Devices and payment methods: user agents, device ids and tokenised card fingerprints.

A device id looks like its platform's: a browser fingerprint hash, an iOS IDFV or an ANDROID_ID.
"""

from __future__ import annotations

import numpy as np

from .draws import hex_ids, token


# (user agent, weight, platform); the platform decides how the device id looks.
_CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{} "
               "Safari/537.36")
_SAFARI_IOS = ("Mozilla/5.0 (iPhone; CPU iPhone OS {} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/{} Mobile/15E148 Safari/604.1")
_ANDROID = ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) {}Chrome/{} Mobile "
            "Safari/537.36")
# What device farms and emulators report; app testers send it too, rarely.
EMULATOR_UA = "Dalvik/2.1.0 (Linux; U; Android 11; sdk_gphone_x86 Build/RSR1.201013.001)"
_USER_AGENTS = (
    (_CHROME_WIN.format("141.0.0.0"), 14, "web"), (_CHROME_WIN.format("140.0.0.0"), 7, "web"),
    (_CHROME_WIN.format("142.0.0.0"), 4, "web"), (_CHROME_WIN.format("141.0.0.0") + " Edg/141.0.0.0", 5, "web"),
    (("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/141.0.0.0 Safari/537.36"), 5, "web"),
    (("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/26.0 Safari/605.1.15"), 4, "web"),
    (_SAFARI_IOS.format("18_6", "26.0"), 9, "web"), (_SAFARI_IOS.format("18_6", "18.6"), 6, "web"),
    (_SAFARI_IOS.format("17_7", "17.7"), 2, "web"),
    (("Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 "
      "Mobile/15E148 Safari/604.1"), 1.5, "web"),
    (_ANDROID.format("", "141.0.0.0"), 12, "web"),
    (_ANDROID.format("SamsungBrowser/28.0 ", "130.0.0.0"), 3, "web"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0", 3, "web"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0", 0.8, "web"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
     0.8, "web"),
    (("Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 "
      "Safari/537.36"), 0.4, "web"),
    ("Northbank/8.14.2 (com.northbank.app; build:81402; iOS 18.6.2) Alamofire/5.9.1", 6, "ios_app"),
    ("Northbank/8.13.0 (com.northbank.app; build:81300; iOS 17.7.1) Alamofire/5.9.1", 1.5, "ios_app"),
    ("okhttp/4.12.0", 5, "android_app"),
    ("Dalvik/2.1.0 (Linux; U; Android 14; SM-S918B Build/UP1A.231005.007)", 2, "android_app"),
    ("Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001)", 1, "android_app"),
    (EMULATOR_UA, 0.05, "android_app"),
)


def devices(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Device ids and the user agent each device sends (browser fingerprints, iOS and Android app ids)."""
    agents = np.asarray([u for u, _, _ in _USER_AGENTS], dtype=object)
    platform = np.asarray([p for _, _, p in _USER_AGENTS], dtype=object)
    w = np.asarray([w for _, w, _ in _USER_AGENTS], dtype=float)
    which = rng.choice(len(agents), size=n, p=w / w.sum())
    ids = hex_ids(rng, n, 16)  # a fingerprint hash
    ios = np.flatnonzero(platform[which] == "ios_app")
    ids[ios] = [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".upper() for h in ids[ios]]  # IDFV
    android = np.flatnonzero(platform[which] == "android_app")
    ids[android] = [h[:16] for h in ids[android]]  # ANDROID_ID
    return ids, agents[which]


def payment_tokens(rng, n: int) -> np.ndarray:
    """Tokenised card fingerprints ("pm_1Q..."), never card numbers."""
    return "pm_1" + token(rng, n, 23, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
