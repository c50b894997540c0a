"""IPv6 addresses in hex groups take a fast path that gives exactly what ipaddress gives."""

import ipaddress
import random
import re

import pytest
from ringwatch.ingest import normalise
from ringwatch.ingest.normalise import normalise_ip

SPECIAL = ["::", "::1", "ff02::1", "fe80::1", "febf::1", "fec0::1", "::ffff:1.2.3.4",
           "::ffff:102:304", "::102:304", "2001:db8::", "0::0", "1::", "::2:3:4:5:6:7:8",
           "1:2:3:4:5:6:7::", "1::2:3:4:5:6:7", ":::", "1:::2", "12345::", "g::1",
           "1:2:3:4:5:6:7:8:9", "::ffff:0:0", "64:ff9b::1", "2002::1", "2A02:0DB8:0000::0001",
           "2001:0:0:1:0:0:0:1", "2001:db8:0:0:1:0:0:1", "fe80::1%eth0", "[2001:db8::1]"]


def _written(rng: random.Random) -> str:
    """An IPv6 address in one of the ways exports write it: full, compressed, upper case, odd zero runs."""
    groups = [rng.choice([0, 0, 0, 1, 0xFFFF, rng.randrange(65536), rng.randrange(16)]) for _ in range(8)]
    if rng.random() < 0.1:
        groups[0] = rng.choice([0xFF00, 0xFE80, 0xFEBF, 0xFEC0, 0, 0x2001])
    address = ipaddress.IPv6Address(b"".join(g.to_bytes(2, "big") for g in groups))
    roll = rng.random()
    if roll < 0.3:
        text = address.exploded
    elif roll < 0.6:
        text = address.compressed
    else:
        text = ":".join(format(g, rng.choice(["x", "X", "04x"])) for g in groups)
    return text.upper() if rng.random() < 0.05 else text


@pytest.fixture
def slow_only(monkeypatch):
    """normalise_ip with the fast path switched off: every address goes through ipaddress."""
    def read(text):
        with monkeypatch.context() as patch:
            patch.setattr(normalise, "_HEX_IPV6", re.compile(r"(?!)"))
            return normalise_ip(text)
    return read


def test_the_fast_path_gives_what_ipaddress_gives(slow_only):
    rng = random.Random(5)
    cases = SPECIAL + [_written(rng) for _ in range(20_000)]
    taken = 0
    for text in cases:
        taken += normalise._HEX_IPV6.fullmatch(text.strip("[]").split("%")[0]) is not None
        assert normalise_ip(text) == slow_only(text), text
    assert taken > 0.9 * len(cases)


def test_addresses_that_name_no_client_are_dropped_on_the_fast_path():
    for text in ["::", "::1", "ff02::1", "fe80::1", "FEBF::1"]:
        assert normalise._plain_ipv6(text) == (None, None)
    assert normalise._plain_ipv6("fec0::1") == ("fec0::1", "fec0::/48")  # site-local is not link-local
    assert normalise._plain_ipv6("::ffff:102:304") is None  # IPv4-mapped: ipaddress decides


def test_the_usage_files_sql_keeps_only_addresses_normalise_ip_keeps_as_written():
    """A usage row stored by SQL keeps its address as written, so the SQL test may pass only
    text that ``normalise_ip`` gives back unchanged; and it should pass most canonical v6 text."""
    import duckdb
    import pandas as pd
    from ringwatch.ingest.usage_sql import _plain_ip

    rng = random.Random(11)
    written = SPECIAL + [_written(rng) for _ in range(20_000)]
    canonical = [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(5_000)]
    cases = sorted(set(written + canonical + ["203.0.113.7", "127.0.0.1", "1111:1111::1111", "2001:db8:0:1::"]))
    con = duckdb.connect()
    con.register("cases", pd.DataFrame({"ip": cases}))
    passed = dict(con.execute(f"SELECT ip, {_plain_ip('ip')} FROM cases").fetchall())
    wrong = [text for text in cases if passed[text] and normalise_ip(text)[0] != text]
    assert not wrong
    kept = [text for text in canonical if normalise_ip(text)[0] == text]
    assert sum(passed[text] for text in kept) > 0.95 * len(kept)
    assert passed["2001:db8:0:1::"] and passed["203.0.113.7"]
    assert not passed["1111:1111::1111"] and not passed["127.0.0.1"] and not passed["fe80::1"]
