"""Vocabularies and vectorised builders for the demo data's identifier values.

Every value is derived from integer keys through a keyed 64-bit mix, so two accounts
share an email, device, card or phone exactly when a scenario gives them the same key.
Nothing here draws from the clock or from global random state.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL_STR = pa.scalar(None, pa.string())

# Salts keep the value spaces of different identifier kinds apart.
SALT_DEVICE, SALT_CARD, SALT_PHONE, SALT_ORG, SALT_TEMPLATE, SALT_NAME, SALT_V6 = (
    0x1D, 0x2C, 0x3B, 0x4A, 0x59, 0x68, 0x77)

# ISO country, sampling weight, UTC offset (hours), calling code, trunk prefix,
# mobile prefixes, national significant number length, split for spaced formats.
COUNTRIES = [
    ("US", 30, -6, "1", "", [a + d for a in ("212", "213", "312", "415", "503", "617", "646",
                                              "702", "713", "718", "206", "305", "404", "512",
                                              "602", "720", "801", "919", "469", "571")
                             for d in "23456789"], 10, 3),
    ("IN", 10, 5.5, "91", "0", ["98", "97", "96", "94", "93", "90", "88", "87", "80", "79",
                                "78", "77", "70", "63"], 10, 5),
    ("GB", 7, 0, "44", "0", ["74", "75", "77", "78", "79"], 10, 4),
    ("DE", 6, 1, "49", "0", ["151", "152", "160", "170", "171", "172", "175", "176", "177",
                             "178", "179"], 11, 3),
    ("BR", 6, -3, "55", "0", ["119", "219", "319", "419", "519", "619", "719", "819"], 11, 2),
    ("FR", 4, 1, "33", "0", ["6", "73", "74", "75", "76", "77", "78"], 9, 1),
    ("CA", 4, -5, "1", "", [a + d for a in ("416", "604", "514", "403", "613", "647", "778")
                            for d in "23456789"], 10, 3),
    ("JP", 3, 9, "81", "0", ["90", "80", "70"], 10, 2),
    ("KR", 2, 9, "82", "0", ["10"], 10, 2),
    ("NG", 3, 1, "234", "0", ["803", "806", "813", "816", "703", "706", "805", "807"], 10, 3),
    ("MX", 3, -6, "52", "", ["55", "33", "81", "22", "66"], 10, 2),
    ("ES", 3, 1, "34", "", ["6", "71", "72", "73", "74"], 9, 3),
    ("IT", 3, 1, "39", "", ["320", "328", "333", "338", "340", "347", "348", "349", "366"],
     10, 3),
    ("NL", 2, 1, "31", "0", ["61", "62", "63", "64", "65"], 9, 1),
    ("PL", 2, 1, "48", "", ["50", "51", "53", "57", "60", "66", "69", "72", "78", "79"], 9, 3),
    ("SG", 2, 8, "65", "", ["81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91",
                            "92", "93", "94", "96", "97", "98"], 8, 4),
    ("AU", 3, 10, "61", "0", ["41", "42", "43", "44", "45", "47", "48"], 9, 3),
    ("ID", 3, 7, "62", "0", ["812", "813", "821", "822", "852", "853", "811", "815"], 11, 3),
    ("TR", 2, 3, "90", "0", ["530", "532", "533", "535", "536", "537", "538", "541", "542",
                             "543", "544", "545", "505", "506", "507"], 10, 3),
    ("VN", 2, 7, "84", "0", ["90", "91", "93", "94", "96", "97", "98", "86", "88", "89"], 9, 2),
]
IDD_00 = {"GB", "DE", "FR", "IN", "ES", "IT", "NL", "PL", "TR", "VN", "NG", "MX"}
COUNTRY_CODES = [c[0] for c in COUNTRIES]
COUNTRY_WEIGHTS = np.array([c[1] for c in COUNTRIES], float) / sum(c[1] for c in COUNTRIES)
COUNTRY_TZ = np.array([c[2] for c in COUNTRIES], float)

FREE_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
                "proton.me", "gmx.de", "yandex.ru", "qq.com", "mail.ru", "aol.com",
                "googlemail.com", "live.com", "naver.com", "web.de", "orange.fr"]
FREE_WEIGHTS = np.array([40, 9, 9, 6, 7, 3, 2, 2, 3, 1, 1, 1, 2, 1, 1, 1], float)
FREE_WEIGHTS /= FREE_WEIGHTS.sum()
THROWAWAY_DOMAINS = ["mailinator.com", "guerrillamail.com", "yopmail.com", "sharklasers.com",
                     "10minutemail.net", "trashmail.de", "tempmail.dev"]

FIRST = ("james mary john patricia robert jennifer michael linda david elizabeth william "
         "susan richard jessica joseph sarah thomas karen charles lisa daniel nancy matthew "
         "sandra anthony ashley mark emily paul donna steven michelle andrew carol joshua "
         "amanda kevin melissa brian deborah george laura wei li priya rahul aarav ananya "
         "lucas sofia mateus julia hiroshi yuki minjun seoyeon chidi amara omar fatima "
         "lukas anna pierre camille mehmet elif nguyen linh").split()
LAST = ("smith johnson williams brown jones garcia miller davis rodriguez martinez "
        "hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin lee "
        "perez thompson white harris sanchez clark ramirez lewis robinson walker young "
        "allen king wright scott torres nguyen hill flores green adams nelson baker hall "
        "rivera campbell mitchell carter roberts patel sharma singh kumar silva santos "
        "tanaka sato kim park okafor adeyemi hassan muller schmidt dubois kaya tran").split()
ORG_A = ("bright north blue iron silver green rapid clear deep open true swift stone cedar "
         "harbor summit pixel quantum amber granite").split()
ORG_B = ("forge wind labs works systems analytics robotics health logistics capital media "
         "foods energy bio software studio").split()
PLACES = ("lakeside westbrook northfield rivermont eastvale highland oakridge pinecrest "
          "stonebridge fairhaven brookhaven silverlake maplewood kingsport").split()
WORDS = ("data worker node alpha nova pixel quant delta vector stack cloud relay prime "
         "swift orbit lumen cobalt ember falcon harbor signal vertex zenith atlas").split()

BROWSER_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36",
]
SDK_UAS = ["python-sdk/1.52.0", "python-sdk/1.54.3", "python-sdk/1.55.1", "node-sdk/4.71.1",
           "node-sdk/4.73.0", "langchain/0.3.14", "langchain/0.3.21", "llamaindex/0.12.8",
           "go-sdk/0.9.2"]
SDK_WEIGHTS = np.array([18, 22, 14, 12, 10, 8, 7, 5, 4], float)
SDK_WEIGHTS /= SDK_WEIGHTS.sum()
SCRIPT_UAS = ["python-requests/2.31.0", "python-requests/2.32.3", "curl/8.5.0",
              "Go-http-client/1.1", "python-httpx/0.27.0", "axios/1.7.2", "okhttp/4.12.0"]
UAS = BROWSER_UAS + SDK_UAS + SCRIPT_UAS
UA_BROWSER0, UA_SDK0, UA_SCRIPT0 = 0, len(BROWSER_UAS), len(BROWSER_UAS) + len(SDK_UAS)

MODELS = ["orion-3-mini", "orion-3-large", "orion-3-reasoning", "orion-2.5"]

# First octets of the fake address spaces; kept disjoint so each pool has its own /24s.
SPACE_RESIDENTIAL = (24, 47, 50, 66, 67, 68, 69, 71, 73, 75, 76, 81, 82, 86, 88, 90, 92, 94,
                     98, 109)
SPACE_CARRIER = (37, 39, 49, 106, 117, 120, 223)
SPACE_CLOUD = (3, 13, 18, 34, 35, 52, 54, 104, 138, 139, 159, 161, 164, 167, 178)
SPACE_BUSINESS = (62, 63, 64, 65, 80, 193, 194, 195, 212, 213, 217)
SPACE_UNIVERSITY = (128, 129, 130, 131, 132, 137, 140, 141, 143, 146, 147, 148, 149, 150)


def mix64(keys: np.ndarray, salt: int) -> np.ndarray:
    """Keyed splitmix64 finaliser: distinct keys map to well-spread 64-bit values."""
    z = keys.astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (salt + 1)) & (2**64 - 1))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_tokens(keys: np.ndarray, salt: int, width: int) -> pa.Array:
    """Lower-case hex strings of `width` (>= 1) chars derived from keys."""
    n = len(keys)
    digits = np.empty((n, (width + 15) // 16 * 16), np.uint8)
    for block in range((width + 15) // 16):
        # Big-endian bytes put the high nibble first, as the digits are read.
        octets = mix64(keys, salt * 131 + block).astype(">u8").view(np.uint8).reshape(n, 8)
        digits[:, 16 * block:16 * block + 16:2] = _HEX[octets >> 4]
        digits[:, 16 * block + 1:16 * block + 16:2] = _HEX[octets & 15]
    # Fixed-width values: the string array's buffers are the digits and even offsets.
    data = np.ascontiguousarray(digits[:, :width])
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def keyed_ids(keys: np.ndarray, salt: int, width: int, prefix: str = "") -> pa.Array:
    """Hex identifiers for keys >= 0, null where the key is negative (value absent)."""
    tokens = hex_tokens(np.maximum(keys, 0), salt, width)
    if prefix:
        tokens = pc.binary_join_element_wise(prefix, tokens, "")
    return pc.if_else(pa.array(keys >= 0), tokens, NULL_STR)


def to_str(values: np.ndarray) -> pa.Array:
    """Decimal strings of an integer array."""
    return pa.array(values).cast(pa.string())


def zero_pad(values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal strings."""
    return pc.utf8_lpad(to_str(values), width=width, padding="0")


def pick(vocab: list[str], idx: np.ndarray) -> pa.Array:
    """Strings of `vocab` at positions `idx`."""
    return pa.array(vocab, pa.string()).take(pa.array(idx))


def join(*parts, sep: str = "") -> pa.Array:
    """Element-wise string concatenation of arrays and scalars."""
    return pc.binary_join_element_wise(*parts, sep)


def ipv4(space: tuple[int, ...], net: np.ndarray, host: np.ndarray) -> np.ndarray:
    """IPv4 addresses as uint32: /24 number `net` inside `space`, host part `host`."""
    net = np.asarray(net, np.int64)
    # An odd (prime) multiplier permutes the space's /24s, so neighbours look unrelated.
    h = (net * 2654435761 + 12345) % (len(space) * 65536)
    o1 = np.asarray(space, np.int64)[h % len(space)]
    rest = h // len(space)
    return ((o1 << 24) | ((rest >> 8) << 16) | ((rest & 255) << 8)
            | np.asarray(host, np.int64)).astype(np.uint32)


def ipv4_strings(ips: np.ndarray) -> pa.Array:
    """Dotted-quad strings of uint32 addresses."""
    ips = ips.astype(np.int64)
    return join(*(to_str((ips >> s) & 255) for s in (24, 16, 8, 0)), sep=".")


def ipv6_strings(keys: np.ndarray) -> pa.Array:
    """Global-unicast-looking IPv6 addresses, one /48 per key."""
    h = mix64(keys, SALT_V6)
    g = [pc.utf8_ltrim(hex_tokens(keys * 8 + i, SALT_V6 + i, 4), "0") for i in range(4)]
    g = [pc.if_else(pc.equal(x, ""), "0", x) for x in g]
    lead = pick(["2a02", "2600", "2a01", "2001", "2804"], (h % np.uint64(5)).astype(np.intp))
    return join(lead, ":", g[0], ":", g[1], ":", g[2], "::", g[3])


def phones(country: np.ndarray, keys: np.ndarray, fmt: np.ndarray) -> pa.Array:
    """Raw phone strings in varied common formats; null where country < 0.

    The number is a function of (country, key) so a shared key is a shared phone.
    """
    n = len(country)
    out = pa.nulls(n, pa.string())
    h = mix64(np.maximum(keys, 0), SALT_PHONE)
    for ci, (code, _, _, cc, trunk, prefixes, nsn_len, split) in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == ci)
        if rows.size == 0:
            continue
        hr = h[rows]
        pre = np.array(prefixes)[(hr % np.uint64(len(prefixes))).astype(np.intp)]
        tail_len = nsn_len - np.char.str_len(pre)
        tail = (hr >> np.uint64(8)) % np.uint64(10 ** 9)
        tail_s = pc.utf8_lpad(to_str(tail), width=9, padding="0")
        tail_s = pc.utf8_slice_codeunits(tail_s, 0, 9)
        nsn = pa.array([p + t[9 - k:] for p, t, k in
                        zip(pre.tolist(), tail_s.to_pylist(), tail_len.tolist())])
        head, body = pc.utf8_slice_codeunits(nsn, 0, split), pc.utf8_slice_codeunits(nsn, split)
        if cc == "1":
            national = join("(", head, ") ", pc.utf8_slice_codeunits(nsn, 3, 6), "-",
                            pc.utf8_slice_codeunits(nsn, 6))
            compact = join(head, pc.utf8_slice_codeunits(nsn, 3, 6),
                           pc.utf8_slice_codeunits(nsn, 6), sep="-")
        else:
            national = join(trunk + "", head, " ", body)
            compact = join(trunk + "", nsn)
        # "00" dialling only where it is the local international prefix.
        idd = "00" if code in IDD_00 else "+"
        styles = [join("+" + cc, nsn), join("+" + cc + " ", head, " ", body),
                  join(idd + cc + " ", head, " ", body), national, compact]
        chosen = pc.choose(pa.array(fmt[rows].astype(np.int8)), *styles)
        out = pc.replace_with_mask(out, mask(n, rows), chosen)
    return pc.if_else(pa.array(country >= 0), out, NULL_STR)


def mask(n: int, rows: np.ndarray) -> pa.Array:
    """Boolean array of length `n`, true at `rows`."""
    flags = np.zeros(n, bool)
    flags[rows] = True
    return pa.array(flags)


def name_parts(keys: np.ndarray) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """First and last name picked by key, plus the key's hash for further choices."""
    h = mix64(keys, SALT_NAME)
    first = pick(FIRST, (h % np.uint64(len(FIRST))).astype(np.intp))
    last = pick(LAST, ((h >> np.uint64(8)) % np.uint64(len(LAST))).astype(np.intp))
    return first, last, h


def person_local_parts(keys: np.ndarray, numbered: np.ndarray) -> pa.Array:
    """Name-based email local parts (first.last, flast42, ...) derived from keys."""
    first, last, h = name_parts(keys)
    num = ((h >> np.uint64(20)) % np.uint64(9000)).astype(np.int64) + 10
    initial = pc.utf8_slice_codeunits(first, 0, 1)
    style = ((h >> np.uint64(40)) % np.uint64(6)).astype(np.int8)
    base = pc.choose(pa.array(style), join(first, ".", last), join(first, last),
                     join(first, "_", last), join(initial, last), join(first, last),
                     join(last, ".", first))
    return pc.if_else(pa.array(numbered), join(base, to_str(num)), base)


def word_pair(keys: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Two vocabulary words per key, used for patterned (serial) addresses."""
    h = mix64(keys, SALT_NAME + 1)
    a = pick(WORDS, (h % np.uint64(len(WORDS))).astype(np.intp))
    b = pick(WORDS, ((h >> np.uint64(16)) % np.uint64(len(WORDS))).astype(np.intp))
    return a, b
