"""Assembling the social world: labels, account ids, text columns and ``generate``.

``generate`` builds the population, accounts, identities and activity from independent
random streams, then writes the ``signups``, ``usage`` and ``labels`` files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..families import FamilyFiles, write_family
from .accounts import _accounts
from .clients import SURFACES, _Clients
from .content import _content, _Rows
from .draws import _arrow_text, _hex16, _mix64, _uuid4
from .fraud import _rings
from .honest import _challenges, _fans, _news, _organic, _second_accounts
from .identities import _identities
from .networks import _row_network, _signup_ips
from .params import _GROUP_PREFIX, CHALLENGE, IDENTIFIERS, IND, KINDS, MIN_ACCOUNTS, NEWS, SocialParams
from .population import _population
from .tables import CODES

_EPOCH_MS = int(pd.Timestamp("2015-01-01T00:00:00Z").timestamp() * 1000)


def _account_ids(rng, created: np.ndarray) -> np.ndarray:
    """Snowflake-style ids: creation milliseconds since the platform's epoch, then 22 random bits."""
    ms = created * 1000 + rng.integers(0, 1000, len(created))
    ids = ((ms - _EPOCH_MS) << 22) | rng.integers(0, 1 << 22, len(created))
    while True:
        clash = pd.Series(ids).duplicated().to_numpy()
        if not clash.any():
            return ids.astype(str).astype(object)
        ids[clash] += 1


def _labels(pop, news, challenge, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scenario, group_id and ring_id per account."""
    n = len(pop.kind)
    kind = pop.kind.copy()
    loner = kind == IND
    kind[loner & (news >= 0)] = NEWS
    kind[loner & (news < 0) & (challenge >= 0)] = CHALLENGE
    scenario = np.array(KINDS, dtype=object)[kind]
    group_id = np.full(n, None, dtype=object)
    grouped = pop.group >= 0
    counters = {k: np.cumsum(pop.group_kind == k) - 1 for k in _GROUP_PREFIX}
    names = np.array([f"{_GROUP_PREFIX[k]}-{counters[k][g]:05d}" for g, k in enumerate(pop.group_kind)], dtype=object)
    group_id[grouped] = names[pop.group[grouped]]
    group_id[kind == NEWS] = [f"news-{e:02d}" for e in news[kind == NEWS]]
    group_id[kind == CHALLENGE] = [f"challenge-{c:02d}" for c in challenge[kind == CHALLENGE]]
    ring_names = np.array([f"ring-{i:04d}" for i in rng.permutation(len(pop.ring_kind))], dtype=object)
    ring_id = np.where(pop.ring >= 0, ring_names[np.maximum(pop.ring, 0)], None)
    return scenario, group_id, ring_id


def _text_column(vocab, index: np.ndarray) -> pd.Series:
    """vocab[index] as a text column, each distinct value converted once (a dictionary decoded by Arrow)."""
    values = vocab if isinstance(vocab, pa.Array) else pa.array(vocab, pa.large_string())
    codes = pa.array(np.asarray(index, dtype=np.int32))
    return pd.Series(pd.array(pa.DictionaryArray.from_arrays(codes, values).cast(pa.large_string()), dtype="str"))


def generate(out_dir, *, accounts: int, seed: int, params: SocialParams | None = None) -> FamilyFiles:
    """Write the social world's signups, usage and labels (Parquet) for `accounts` accounts.

    Timestamps are written without a zone, which the data contract reads as UTC.
    """
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"the social family needs at least {MIN_ACCOUNTS} accounts, got {accounts}")
    p = params or SocialParams()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, accounts]).spawn(6)]
    pop = _population(p, accounts, streams[0])
    clients = _Clients()
    acc = _accounts(p, pop, clients, streams[1])
    email, phone, payment = _identities(p, pop, acc, streams[2])

    rng, rows = streams[3], _Rows()
    content = _content(p, accounts, rng)
    legit = pop.ring < 0
    _second_accounts(pop, acc.created, rng, rows, _organic(p, pop, acc, content, rng, rows))
    news = _news(p, acc, legit, rng, rows)
    challenge = _challenges(p, acc, legit, rng, rows)
    _fans(pop, acc, rng, rows)
    _rings(pop, acc, content, rng, rows)

    rng = streams[4]
    acct, ts, fp, tin, tout, requests = rows.columns()
    ts_ms = ts * 1000 + rng.integers(0, 1000, len(ts))
    order = np.lexsort((acct, ts_ms))
    acct, ts_ms, fp, tin, tout, requests = (x[order] for x in (acct, ts_ms, fp, tin, tout, requests))
    surface_of = np.array(clients.surface)
    ua, ip_vocab, ip_index = _row_network(rng, acct, ts_ms // 1000, acc, surface_of)
    unique_fp, inverse = np.unique(fp, return_inverse=True)
    account_id = _account_ids(rng, acc.created)
    usage = pd.DataFrame({
        "account_id": _text_column(account_id, acct),
        "ts": ts_ms.astype("datetime64[ms]"),
        "ip": _text_column(ip_vocab, ip_index),
        "model": _text_column(np.array(SURFACES, dtype=object), surface_of[ua]),
        "prompt_fingerprint": _text_column(_arrow_text(_hex16(_mix64(unique_fp))), inverse),
        "input_tokens": tin, "output_tokens": tout, "requests": requests,
        "user_agent": _text_column(np.array(clients.ua, dtype=object), ua),
        "request_id": pd.array(_arrow_text(_uuid4(rng, len(acct))), dtype="str"),
    })

    scenario, group_id, ring_id = _labels(pop, news, challenge, streams[5])
    order = np.lexsort((account_id, acc.created))
    signups = pd.DataFrame({
        "account_id": account_id, "created_at": acc.created.astype("datetime64[s]"),
        "email": email, "phone": phone, "ip": _signup_ips(rng, acc, surface_of), "device_id": acc.device,
        "user_agent": np.array(clients.ua, dtype=object)[acc.ua], "payment_id": payment, "country": CODES[acc.country],
    }).iloc[order].reset_index(drop=True)
    labels = pd.DataFrame({
        "account_id": account_id, "label": np.where(pop.ring >= 0, "fraud", "legit").astype(object),
        "ring_id": ring_id, "scenario": scenario, "group_id": group_id,
    }).iloc[order].reset_index(drop=True)
    return write_family(out_dir, signups, labels, usage, identifiers=IDENTIFIERS)
