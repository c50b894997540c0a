"""Value tables and formats of the distillation world.

Countries and their phone plans, names, mail and organisation domains, browsers, API clients
and IP space, and the functions that write random strings, prompt hashes, IP addresses and
phone numbers.
"""

from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------------------- value tables

COUNTRIES = np.array(["US", "IN", "GB", "DE", "BR", "FR", "CA", "JP", "KR", "ID", "NG", "MX", "ES",
                      "IT", "NL", "PL", "TR", "VN", "PH", "AU", "SG", "SE", "CH", "IL", "AR", "ZA",
                      "EG"], dtype=object)
COUNTRY_WEIGHTS = np.array([25, 11, 6, 6, 5, 4, 3.5, 4, 3, 3, 2, 2.5, 2.5, 2.5, 2, 2, 2, 2, 2, 2,
                            1.5, 1, 1, 1, 1, 1, 1]) / 100.0
COUNTRY_WEIGHTS = COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum()
TZ = np.array([-5, 5, 0, 1, -3, 1, -5, 9, 9, 7, 1, -6, 1, 1, 1, 1, 3, 7, 8, 10, 8, 1, 1, 2, -3, 2, 2])
# Mobile numbering plans: country -> (calling code, leading digits, national number length).
_US_AREAS = ("201", "206", "212", "213", "303", "305", "312", "347", "404", "408", "415", "503",
             "510", "512", "602", "617", "646", "702", "713", "718", "773", "917")
PHONE_PLANS = {
    "US": ("1", tuple(a + d for a in _US_AREAS for d in "23456789"), 10),
    "CA": ("1", tuple(a + d for a in ("416", "604", "514", "403", "613") for d in "23456789"), 10),
    "GB": ("44", ("71", "72", "73"), 10), "DE": ("49", ("160", "162", "170", "171", "172", "173",
                                                        "174", "175", "176", "177", "178", "179"), 10),
    "FR": ("33", ("60", "61", "62", "63", "64", "65", "66", "67", "68", "75", "76", "77"), 9),
    "IN": ("91", ("6", "7", "8", "9"), 10), "BR": ("55", ("119", "219", "319", "419", "519", "619"), 11),
    "JP": ("81", ("80", "901", "905", "908"), 10), "KR": ("82", ("101", "102", "103", "104", "106"), 10),
    "ID": ("62", ("812", "813", "821", "822", "852", "857", "878", "896"), 11),
    "NG": ("234", ("803", "806", "813", "816", "703", "706", "810", "903"), 10),
    "MX": ("52", ("55", "33", "81"), 10), "ES": ("34", ("6",), 9),
    "IT": ("39", ("32", "33", "34", "36", "38", "39"), 10),
    "NL": ("31", ("61", "62", "63", "64", "65"), 9),
    "PL": ("48", ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"), 9),
    "TR": ("90", ("53", "54", "55"), 10), "VN": ("84", ("90", "91", "93", "94", "96", "97", "98"), 9),
    "PH": ("63", ("917", "918", "919", "920", "921", "927", "939", "945"), 10),
    "AU": ("61", ("40", "41", "42", "43"), 9),
}
SMS_COUNTRIES = np.array([COUNTRIES.tolist().index(c) for c in ("ID", "IN", "VN", "PH", "NG", "GB")])

FIRST = np.array("""james mary john patricia robert jennifer michael linda david elizabeth william
barbara richard susan joseph jessica thomas sarah daniel karen matthew nancy anthony lisa mark emily
paul anna andrew laura wei li hiroshi yuki min ji ahmed fatima mohamed aisha carlos maria jose ana
luis sofia juan lucia pierre camille lukas lena jonas mia arjun priya rahul ananya olu chioma ivan
olga mateusz zofia emre elif thao jorge gabriela kenji sakura minh sara omar
noor""".split(), dtype=object)
LAST = np.array("""smith johnson williams brown jones garcia miller davis rodriguez martinez
hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white
harris clark lewis walker hall young wang zhang liu chen tanaka suzuki sato kim park choi khan ali
hassan singh patel sharma gupta silva santos oliveira costa mueller schmidt schneider fischer weber
dubois moreau laurent rossi russo bianchi kowalski nowak ivanov petrov yilmaz kaya nguyen tran okafor
adeyemi fernandez romero jansen devries andersson nielsen murphy obrien""".split(), dtype=object)
FREE_MAIL = np.array(["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com",
                      "proton.me", "gmx.de", "web.de", "qq.com", "163.com", "naver.com", "yandex.ru",
                      "mail.ru", "hotmail.co.uk", "yahoo.co.jp", "outlook.fr", "libero.it", "aol.com",
                      "protonmail.com", "live.com"], dtype=object)
FREE_WEIGHTS = np.array([44, 9, 7, 7, 8, 3, 2, 1.5, 3, 2, 1.5, 1.5, 1.5, 1, 1, 1, 1, 1, 1, 1.0])
FREE_WEIGHTS = FREE_WEIGHTS / FREE_WEIGHTS.sum()
BURNER_MAIL = np.array(["outlook.com", "hotmail.com", "mail.ru", "gmx.com", "yandex.com",
                        "proton.me", "gmail.com"], dtype=object)
NAME_STYLES = ("{f}.{l}", "{f}{l}", "{f}.{l}{a:02d}", "{i}{l}", "{f}_{l}{y:02d}", "{f}{b}", "{l}.{f}")
ADJ = """north blue bright clear swift silver green prime deep open true red first new high iron
quiet bold smart lucky polar solar urban vivid apex""".split()
NOUN = """wind peak harbor field stone bridge leaf river forge pixel signal metric orbit ledger
grid lab works logic path wave craft nest spark point base""".split()
SUFFIX = ("", "", "", "labs", "hq", "tech", "group", "ai", "systems")
TLD = ("com", "com", "com", "io", "ai", "de", "co.uk", "fr", "co", "net")
CITIES = """lyon leeds porto bremen kyoto austin delft graz turin cork bergen pune accra lund bonn
ghent trento tartu brno malaga quebec adelaide otago sendai busan recife cordoba leuven aarhus uppsala
padua krakow riga salford dundee tampere coimbra basel toledo ottawa""".split()
CAMPUS = ("{c}.edu", "uni-{c}.de", "{c}.ac.uk", "univ-{c}.fr", "{c}.edu.au", "{c}-u.ac.jp")
DROP_TLD = ("xyz", "top", "shop", "online", "site", "icu", "store")

_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
BROWSERS = np.array([
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + _CHROME.format(v=142),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " + _CHROME.format(v=142),
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/26.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + _CHROME.format(v=141),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/26.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + _CHROME.format(v=142) + " Edg/142.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:145.0) Gecko/20100101 Firefox/145.0",
    "Mozilla/5.0 (X11; Linux x86_64) " + _CHROME.format(v=142),
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + _CHROME.format(v=140),
    "Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/26.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 "
    "Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/142.0.0.0 Safari/537.36",
], dtype=object)
HEADLESS = len(BROWSERS) - 1
BROWSER_WEIGHTS = np.array([22, 12, 10, 10, 8, 8, 7, 5, 3, 3, 2, 3, 2, 3, .2])
BROWSER_WEIGHTS = BROWSER_WEIGHTS / BROWSER_WEIGHTS.sum()
CLIENTS = np.array([
    "sage-python/2.7.1", "sage-node/3.2.0", "sage-python/2.6.4", "python-httpx/0.28.1",
    "langchain-sage/0.4.2", "sage-python/2.5.0", "python-requests/2.32.3", "sage-node/3.1.5",
    "curl/8.7.1", "axios/1.7.9", "llama-index-llms-sage/0.5.1", "sage-go/1.3.0", "Go-http-client/2.0",
    "okhttp/4.12.0", "sage-java/1.8.2", "aiohttp/3.11.11", "PostmanRuntime/7.43.0",
    "sage-python/1.9.8", "Dart/3.5 (dart:io)", "sage-ruby/0.9.1"], dtype=object)
CLIENT_WEIGHTS = 1.0 / np.arange(1, len(CLIENTS) + 1)
CLIENT_WEIGHTS = CLIENT_WEIGHTS / CLIENT_WEIGHTS.sum()
# First octets of consumer ISP space and of cloud/hosting space (public, unreserved).
RESIDENTIAL = np.array([24, 31, 37, 41, 46, 49, 50, 59, 60, 61, 67, 68, 69, 70, 71, 72, 73, 75, 76,
                        77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 89, 90, 91, 92, 93, 94, 95, 97,
                        98, 99, 101, 106, 109, 110, 112, 114, 115, 116, 117, 118, 119, 120, 121,
                        122, 123, 124, 171, 175, 176, 177, 178, 179, 180, 182, 183, 186, 187, 189,
                        190, 191, 197, 200, 201])
CLOUD = np.array([3, 13, 18, 20, 34, 35, 40, 44, 52, 54, 64, 104, 107, 128, 134, 137, 138, 139, 141,
                  142, 143, 146, 147, 152, 157, 159, 161, 164, 165, 167, 168, 170])
V6_HEADS = np.array(["2a02", "2a01", "2001", "2600", "2601", "2603", "2409", "2406", "2804",
                     "2a00", "2403", "2a0d"], dtype=object)
_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_LOWER = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


# ---------------------------------------------------------------------------- value formats


def _chars(rng, n: int, width: int, alphabet: np.ndarray) -> np.ndarray:
    """`n` random strings of `width` characters of `alphabet`, as an object array."""
    codes = alphabet[rng.integers(0, len(alphabet), (n, width))]
    return np.frombuffer(codes.tobytes(), dtype=f"S{width}").astype(f"U{width}").astype(object)


def _hex64(values: np.ndarray) -> np.ndarray:
    """64-bit integers as 16 hex digits (the form of a prompt hash)."""
    text = values.astype(">u8").tobytes().hex().encode()
    return np.frombuffer(text, dtype="S16").astype("U16")


def _random64(rng, n: int) -> np.ndarray:
    """`n` random 64-bit values (prompt hashes)."""
    return np.frombuffer(rng.bytes(8 * n), dtype=np.uint64)


def _v4(rng, n: int, firsts: np.ndarray) -> np.ndarray:
    """Random public IPv4 addresses as integers, first octet from `firsts`, host 1-254."""
    middle = rng.integers(0, 1 << 16, n) << 8
    return (firsts[rng.integers(0, len(firsts), n)] << 24) + middle + rng.integers(1, 255, n)


def _v4_text(ints: np.ndarray) -> np.ndarray:
    """IPv4 integers in dotted-quad form."""
    octets = [((ints >> s) & 255).tolist() for s in (24, 16, 8, 0)]
    return np.array([f"{a}.{b}.{c}.{d}" for a, b, c, d in zip(*octets)], dtype=object)


def _v6_text(rng, heads: np.ndarray, groups: int) -> np.ndarray:
    """IPv6 addresses: each head (one to three groups) followed by `groups` random groups."""
    tails = rng.integers(0, 1 << 16, (len(heads), groups)).tolist()
    return np.array([h + ":" + ":".join(f"{g:x}" for g in t) for h, t in zip(heads, tails)],
                    dtype=object)


def _home_ips(rng, n: int) -> np.ndarray:
    """Consumer addresses: mostly IPv4, a quarter IPv6."""
    out = _v4_text(_v4(rng, n, RESIDENTIAL))
    v6 = rng.random(n) < 0.25
    out[v6] = _v6_text(rng, V6_HEADS[rng.integers(0, len(V6_HEADS), int(v6.sum()))], 7)
    return out


def _phones(rng, countries: np.ndarray) -> np.ndarray:
    """A valid mobile number per account in its country, None where no plan is known.

    Written as E.164 or with spaces, as people type them.
    """
    out = np.full(len(countries), None, dtype=object)
    spaced = rng.random(len(countries)) < 0.35
    for code, (cc, leads, length) in PHONE_PLANS.items():
        at = np.flatnonzero(COUNTRIES[countries] == code)
        if not len(at):
            continue
        lead = np.array(leads, dtype=object)[rng.integers(0, len(leads), len(at))]
        rest = rng.integers(0, 10 ** 9, len(at)).tolist()
        national = [f"{p}{r % 10 ** (length - len(p)):0{length - len(p)}d}" for p, r in zip(lead, rest)]
        out[at] = [f"+{cc} {d[:3]} {d[3:6]} {d[6:]}" if s else f"+{cc}{d}"
                   for d, s in zip(national, spaced[at])]
    return out
