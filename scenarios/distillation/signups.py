"""Signups of the distillation world: one row per account.

When each account was created, its e-mail address, the IP table (proxy exits, own addresses,
unit pools), and the row with phone, device, card, country and organisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .params import DAYS, HAS_CARD, HAS_PHONE, HOURS, K, KINDS_ARR, POOLS, START, TRAFFIC, Params, _per_kind
from .values import (
    ADJ,
    BROWSERS,
    BROWSER_WEIGHTS,
    BURNER_MAIL,
    CAMPUS,
    CITIES,
    CLOUD,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    DROP_TLD,
    FIRST,
    FREE_MAIL,
    FREE_WEIGHTS,
    HEADLESS,
    LAST,
    NAME_STYLES,
    NOUN,
    RESIDENTIAL,
    SMS_COUNTRIES,
    SUFFIX,
    TLD,
    TZ,
    V6_HEADS,
    _B62,
    _HEX,
    _LOWER,
    _chars,
    _home_ips,
    _phones,
    _v4,
    _v4_text,
    _v6_text,
)
from .world import Pool, World, _choose, _diurnal_hours, _owners, _pool, _shared, _take


def _created(rng, p: Params, w: World) -> np.ndarray:
    """Signup time of every account, in hours from the window start."""
    k, nu = w.unit_kind, len(w.unit_kind)
    t0, span = np.zeros(nu), np.full(nu, HOURS - 12.0)
    bursts, gap, blen = np.zeros(nu, dtype=int), np.zeros(nu), np.zeros(nu)
    anchor, length = rng.random(nu), rng.random(nu)
    unit_tz = w.tz[w.unit_first]

    def window(kind, mask, start, hours):
        m = (k == K[kind]) & mask
        t0[m], span[m] = start[m], hours[m]

    every = np.ones(nu, dtype=bool)
    window("household", rng.random(nu) < 0.4, anchor * (HOURS - 48), np.full(nu, 6.0))  # one evening
    window("university", every, anchor * HOURS * 0.6, np.full(nu, 72.0))  # after a lecture
    window("camouflage", every, anchor * HOURS * 0.6, 24 * (7 + 7 * length))
    window("small_ring", every, anchor * HOURS * 0.85, 6 + 66 * length)
    window("paraphrase", every, anchor * HOURS * 0.6, 24 * (2 + 4 * length))
    window("hydra", every, anchor * HOURS * 0.5, HOURS - 24 - anchor * HOURS * 0.5)
    # A team onboarded one weekday afternoon; a farm registered in one to three bursts.
    team = (k == K["company"]) & (rng.random(nu) < p.bursty_company_share)
    day = rng.integers(0, DAYS - 3, nu)
    day -= np.maximum(day % 7 - 4, 0)
    t0[team], blen[team], bursts[team] = (day * 24 + 13 - unit_tz)[team], 3 + length[team], 1
    farm = k == K["farm"]
    bursts[farm] = rng.integers(1, 4, int(farm.sum()))
    t0[farm], gap[farm] = anchor[farm] * HOURS * 0.7, 6 + 66 * length[farm]
    blen[farm] = w.unit_size[farm] / bursts[farm] * rng.uniform(20, 90, int(farm.sum())) / 3600

    u, n = w.acc_unit, w.n
    a_t0, a_span = t0[u], span[u]
    roams = (w.acc_kind == K["university"]) & (rng.random(n) < 0.45)
    a_t0[roams], a_span[roams] = 0, HOURS - 12
    t = a_t0 + rng.random(n) * a_span
    # Organic signups happen at waking hours in the account's own time zone.
    local_day = np.floor((t + w.tz) / 24)
    hour = _diurnal_hours(rng, _per_kind({k: v.day for k, v in TRAFFIC.items()})[w.acc_kind])
    snapped = local_day * 24 + hour + rng.random(n) - w.tz
    keep = (a_span >= 24) & (snapped >= a_t0) & (snapped <= a_t0 + a_span)
    t = np.where(keep, snapped, t)
    burst = bursts[u] > 0
    in_burst = t0[u] + np.floor(rng.random(n) * bursts[u]) * gap[u] + rng.random(n) * blen[u]
    return np.clip(np.where(burst, in_burst, t), 0, HOURS - 6)


def _org_domains(rng, w: World) -> np.ndarray:
    """A mail domain per company and university unit (None for other units)."""
    nu = len(w.unit_kind)
    out = np.full(nu, None, dtype=object)
    firms = np.flatnonzero(w.unit_kind == K["company"])
    names = [f"{ADJ[a]}{NOUN[b]}{SUFFIX[c]}" for a, b, c in zip(
        *(rng.integers(0, len(t), len(firms)).tolist() for t in (ADJ, NOUN, SUFFIX)))]
    tlds = np.array(TLD, dtype=object)[rng.integers(0, len(TLD), len(firms))]
    seen: dict[str, int] = {}
    for i, (name, tld) in enumerate(zip(names, tlds)):
        seen[name] = seen.get(name, 0) + 1  # a taken name gets a number, as registrants do
        out[firms[i]] = f"{name}{seen[name] if seen[name] > 1 else ''}.{tld}"
    campuses = np.flatnonzero(w.unit_kind == K["university"])
    cities = rng.permutation(len(CITIES))
    for i, unit in enumerate(campuses):
        city = CITIES[cities[i % len(CITIES)]] + (str(i // len(CITIES)) if i >= len(CITIES) else "")
        out[unit] = CAMPUS[rng.integers(0, len(CAMPUS))].format(c=city)
    return out


def _name_locals(rng, first: np.ndarray, last: np.ndarray) -> list[str]:
    """Local parts people make from their names: john.smith, jsmith, john_smith88, ..."""
    n = len(first)
    style, a, y, b = (rng.integers(0, len(NAME_STYLES), n), rng.integers(1, 100, n),
                      rng.integers(60, 108, n) % 100, rng.integers(1, 10000, n))
    return [NAME_STYLES[s].format(f=f, l=l, i=f[0], a=x, y=yy, b=bb) for s, f, l, x, yy, bb
            in zip(style.tolist(), first, last, a.tolist(), y.tolist(), b.tolist())]


def _emails(rng, w: World, created: np.ndarray) -> np.ndarray:
    """Addresses: names at free mail, staff and students at their domain, ring patterns."""
    n, kind, u = w.n, w.acc_kind, w.acc_unit
    first = FIRST[rng.integers(0, len(FIRST), n)]
    family = LAST[rng.integers(0, len(LAST), len(w.unit_kind))][u]
    last = np.where(kind == K["household"], family, LAST[rng.integers(0, len(LAST), n)])
    local = np.array(_name_locals(rng, first, last), dtype=object)
    domain = FREE_MAIL[_choose(rng, n, FREE_WEIGHTS)]
    org = _org_domains(rng, w)[u]
    at_org = (org != None) & (rng.random(n) < np.where(kind == K["company"], .85, .8))  # noqa: E711
    local[at_org] = [f"{f}.{l}" if s else f"{f[0]}{l}{d:02d}" for f, l, s, d in zip(
        first[at_org], last[at_org], (kind[at_org] == K["company"]).tolist(),
        rng.integers(1, 100, int(at_org.sum())).tolist())]
    domain[at_org] = org[at_org]
    # Hydras register random-looking burner addresses.
    hydra = np.flatnonzero(kind == K["hydra"])
    burner = _chars(rng, len(hydra), 12, _LOWER)
    size, initial = rng.integers(8, 13, len(hydra)).tolist(), rng.integers(97, 123, len(hydra)).tolist()
    local[hydra] = [chr(c) + s[1:m] for s, m, c in zip(burner, size, initial)]
    domain[hydra] = BURNER_MAIL[rng.integers(0, len(BURNER_MAIL), len(hydra))]
    # Farms number their addresses in signup order, each farm in its own pattern.
    farm = np.flatnonzero(kind == K["farm"])
    order = farm[np.lexsort((created[farm], u[farm]))]
    seq = np.arange(len(order)) - np.searchsorted(u[order], u[order])
    nu = len(w.unit_kind)
    style = rng.integers(0, 4, nu)
    offset = rng.integers(0, 400, nu) * (rng.random(nu) < 0.5)
    stem = np.array([ADJ[a] + NOUN[b] for a, b in zip(rng.integers(0, len(ADJ), nu).tolist(),
                                                      rng.integers(0, len(NOUN), nu).tolist())], dtype=object)
    drop = [f"{s}{d}.{t}" for s, d, t in zip(stem, rng.integers(10, 100, nu).tolist(),
                                              rng.choice(DROP_TLD, nu).tolist())]
    base = np.array([f"{f}{l}" for f, l in zip(FIRST[rng.integers(0, len(FIRST), nu)],
                                                LAST[rng.integers(0, len(LAST), nu)])], dtype=object)
    for acc, s in zip(order.tolist(), seq.tolist()):
        unit, number = u[acc], s + offset[u[acc]]
        local[acc], domain[acc] = (
            (f"{stem[unit]}{number:03d}", drop[unit]), (f"{base[unit]}{number}", "gmail.com"),
            (f"{base[unit]}+{number}", "outlook.com"),
            (f"{stem[unit]}.{base[unit][:4]}{number}", domain[acc]))[style[unit]]
    email = np.array([f"{a}@{b}" for a, b in zip(local, domain)], dtype=object)
    return _unique_mailboxes(rng, email, kind != K["farm"])


def _unique_mailboxes(rng, email: np.ndarray, mutable: np.ndarray) -> np.ndarray:
    """Give clashing name-based addresses a number, as a mail provider makes its users do."""
    def mailbox(address: str) -> str:
        local, domain = address.split("@")
        local = local.split("+")[0]
        return (local.replace(".", "") if domain == "gmail.com" else local) + "@" + domain
    keys = pd.Series([mailbox(e) for e in email])
    for _ in range(8):
        clash = np.flatnonzero(keys.duplicated(keep=False).to_numpy() & mutable)
        if not len(clash):
            break
        digits = rng.integers(1, 1000, len(clash)).tolist()
        email[clash] = [e.replace("@", f"{d}@") for e, d in zip(email[clash], digits)]
        keys.iloc[clash] = [mailbox(e) for e in email[clash]]
    return email


def _addresses(rng, p: Params, w: World) -> None:
    """The IP table: the proxy provider's exits, each account's own address and the unit pools."""
    pieces, kind = [], w.unit_kind
    size = max(2000, int(w.n * p.proxy_pool))
    pieces.append(_home_ips(rng, size))
    w.proxy = (0, size)
    own = _home_ips(rng, w.n)
    # A mobile carrier hands out IPv6 from a few /48s: many strangers per prefix.
    carrier = np.flatnonzero(w.acc_kind == K["mobile_carrier"])
    prefixes = _v6_text(rng, V6_HEADS[rng.integers(0, len(V6_HEADS), len(kind))], 2)
    own[carrier] = _v6_text(rng, prefixes[w.acc_unit[carrier]], 5)
    pieces.append(own)
    w.own_ip = size + np.arange(w.n)
    pool = _pool(rng, w, "ip")
    owner = _owners(pool)
    okind = KINDS_ARR[kind[owner]]
    entry = np.arange(pool.total) - pool.start[owner]
    codes = np.zeros(pool.total, dtype=np.int64)
    # Proxy rings rent a slice of the provider's pool; slices of different rings may overlap.
    proxied = np.isin(okind, ("hydra", "camouflage", "paraphrase"))
    slice_at = rng.integers(0, np.maximum(size - pool.size, 1))
    codes[proxied] = (slice_at[owner] + entry)[proxied] % size
    # Offices, campuses, carriers' NAT and farms' servers sit in one to three adjacent /24s.
    subnet = np.isin(okind, ("company", "university", "mobile_carrier", "farm"))
    nu = len(kind)
    base = np.where(kind == K["farm"], _v4(rng, nu, CLOUD), _v4(rng, nu, RESIDENTIAL)) & ~255
    nets = np.where(np.isin(kind, [K["farm"], K["mobile_carrier"]]), rng.integers(1, 4, nu), 1)
    net = rng.integers(0, 1 << 8, pool.total) % nets[owner]
    host = base[owner] + net * 256 + rng.integers(1, 255, pool.total)
    # The rest is one address or a few: a home, a developer's cloud servers.
    servers = np.isin(okind, ("sdk_user", "power_user"))
    single = np.where(servers, _v4_text(_v4(rng, pool.total, CLOUD)), _home_ips(rng, pool.total))
    codes[~proxied] = size + w.n + np.flatnonzero(~proxied)
    pieces.append(np.where(subnet, _v4_text(host), single))
    w.ips, w.ip_pool, w.ip_codes = pieces, pool, codes


def _signups(rng, p: Params, w: World) -> pd.DataFrame:
    """One row per account (in unit order): who signed up, when, from where, paying how."""
    n, kind, u = w.n, w.acc_kind, w.acc_unit
    pool, pick = _shared(rng, w, "country")
    pooled = _choose(rng, pool.total, COUNTRY_WEIGHTS)
    farms = w.unit_kind[_owners(pool)] == K["farm"]
    pooled[farms & (rng.random(pool.total) < .6)] = 0  # farms mostly pose as US customers
    country = _take(pooled, pick, _choose(rng, n, COUNTRY_WEIGHTS))
    w.tz = TZ[country]
    w.created_h = _created(rng, p, w)
    _addresses(rng, p, w)
    from_pool = (w.ip_pool.size[u] > 0) & (rng.random(n) < _per_kind(POOLS["ip"], 3)[kind])
    signup_ip = _take(w.ip_codes, np.where(from_pool, w.ip_pool.pick(rng, u), -1), w.own_ip)

    def column(name: str, own: np.ndarray, make) -> np.ndarray:
        pool, pick = _shared(rng, w, name)
        return _take(make(pool), pick, own) if pool.total else own

    device = _chars(rng, n, 32, _HEX)
    mobile = rng.random(n) < 0.3  # app installs report an upper-case UUID
    device[mobile] = [f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:]}".upper()
                      for d in device[mobile]]
    device = column("device", device, lambda pl: _chars(rng, pl.total, 32, _HEX))

    def tokens(prefix: str, count: int) -> np.ndarray:
        return prefix + _chars(rng, count, 24, _B62)
    own_card = np.where(rng.random(n) < _per_kind(HAS_CARD)[kind], tokens("pm_", n), None)
    card = column("card", own_card, lambda pl: tokens("pm_", pl.total))

    def shared_phones(pl: Pool) -> np.ndarray:
        owner = _owners(pl)
        where = country[w.unit_first[owner]]
        sms = w.unit_kind[owner] == K["farm"]  # SMS-activation services sell numbers from abroad
        where[sms] = SMS_COUNTRIES[rng.integers(0, len(SMS_COUNTRIES), int(sms.sum()))]
        where[w.unit_kind[owner] == K["camouflage"]] = 0  # VoIP numbers are US ones
        return _phones(rng, where)
    own_phone = np.where(rng.random(n) < _per_kind(HAS_PHONE)[kind], _phones(rng, country), None)
    phone = column("phone", own_phone, shared_phones)
    org = column("org", tokens("org-", n), lambda pl: tokens("org-", pl.total))
    w.browser = column("browser", _choose(rng, n, BROWSER_WEIGHTS), lambda pl: np.where(
        rng.random(pl.total) < 0.4, HEADLESS, _choose(rng, pl.total, BROWSER_WEIGHTS)))
    created = START + np.round(w.created_h * 3600).astype("timedelta64[s]")
    return pd.DataFrame({
        "created_at": created.astype("datetime64[us]"), "email": _emails(rng, w, w.created_h),
        "phone": phone, "ip": np.concatenate(w.ips)[signup_ip], "device_id": device,
        "user_agent": BROWSERS[w.browser], "payment_id": card, "country": COUNTRIES[country],
        "org_id": org})
