"""Demo scenario generator: determinism, contract shape, ground truth and ring structure."""

import ipaddress
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ringwatch.scenarios.generate import generate
from ringwatch.scenarios.population_model import FRAUD_KINDS
from ringwatch.scenarios.populations import build_population

N = 2_000
DAYS = 14
WINDOW_END = pd.Timestamp("2026-11-16T00:00:00Z")
ISO_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
SIGNUP_COLUMNS = ["account_id", "created_at", "email", "phone", "ip", "device_id",
                  "user_agent", "payment_id", "country", "org_id", "plan"]
USAGE_COLUMNS = ["account_id", "ts", "ip", "model", "prompt_fingerprint", "input_tokens",
                 "output_tokens", "requests", "user_agent"]
LABEL_COLUMNS = ["account_id", "label", "ring_id", "scenario", "group_id"]
SCENARIOS = {"individual", "org", "university", "carrier", "family", "proxy_user",
             "sdk_heavy", "farm", "hydra", "camouflaged", "small_ring"}


def _parse_ts(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.where(text.str.match(ISO_Z)), format="%Y-%m-%dT%H:%M:%SZ",
                          errors="coerce", utc=True)


def _read(path: Path) -> pd.DataFrame:
    if path.name.endswith(".parquet"):
        return pq.read_table(path).to_pandas()
    if path.name.endswith(".csv.gz"):
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.read_json(path, lines=True, dtype=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_csv")
    files = generate(out, accounts=N, seed=7, days=DAYS, fmt="csv")
    signups, usage, labels = (_read(files.signups), _read(files.usage), _read(files.labels))
    created = _parse_ts(signups.created_at)
    valid = signups[(signups.account_id != "") & created.notna()].assign(created=created)
    ts = _parse_ts(usage.ts)
    good_usage = usage[(usage.account_id != "") & ts.notna()].assign(ts=ts)
    for col in ("input_tokens", "output_tokens", "requests"):
        good_usage[col] = good_usage[col].astype(int)
    good_usage = good_usage[good_usage.input_tokens >= 0]
    return dict(files=files, signups=signups, usage=usage, labels=labels,
                bad=signups[~signups.index.isin(valid.index)],
                valid=valid.merge(labels, on="account_id"),
                good_usage=good_usage.merge(labels, on="account_id"))


def _file_bytes(files):
    return [Path(p).read_bytes() for p in (files.signups, files.usage, files.labels)]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path, fmt):
    a = generate(tmp_path / "a", accounts=1000, seed=3, days=3, fmt=fmt)
    b = generate(tmp_path / "b", accounts=1000, seed=3, days=3, fmt=fmt)
    c = generate(tmp_path / "c", accounts=1000, seed=4, days=3, fmt=fmt)
    assert _file_bytes(a) == _file_bytes(b)
    assert all(x != y for x, y in zip(_file_bytes(a), _file_bytes(c)))


def test_worker_processes_write_the_same_files(tmp_path):
    one = generate(tmp_path / "one", accounts=1000, seed=5, days=5, workers=1)
    two = generate(tmp_path / "two", accounts=1000, seed=5, days=5, workers=2)
    assert _file_bytes(one) == _file_bytes(two)
    assert (one.usage_rows, one.usage_requests) == (two.usage_rows, two.usage_requests)


def test_columns_follow_the_contract(data):
    assert list(data["signups"].columns) == SIGNUP_COLUMNS
    assert list(data["usage"].columns) == USAGE_COLUMNS
    assert list(data["labels"].columns) == LABEL_COLUMNS
    assert data["valid"].account_id.str.match(r"^acct_\d{7}$").all()
    assert data["valid"].created_at.str.match(ISO_Z).all()
    assert set(data["labels"].label) == {"fraud", "legit"}


def test_parquet_types_and_same_content_as_csv(tmp_path, data):
    files = generate(tmp_path, accounts=N, seed=7, days=DAYS, fmt="parquet")
    schema = pq.read_schema(files.usage)
    for name in ("account_id", "ts", "ip", "prompt_fingerprint", "user_agent"):
        assert schema.field(name).type == pa.string()
    for name in ("input_tokens", "output_tokens", "requests"):
        assert pa.types.is_integer(schema.field(name).type)
    as_parquet = _read(files.signups).fillna("")
    pd.testing.assert_frame_equal(as_parquet, data["signups"], check_dtype=False)


def test_clean_parquet_uses_utc_timestamps(tmp_path):
    files = generate(tmp_path, accounts=1000, seed=1, days=2, dirty_rows=False)
    assert files.dirty_signup_rows == files.dirty_usage_rows == 0
    for path, col in ((files.signups, "created_at"), (files.usage, "ts")):
        typ = pq.read_schema(path).field(col).type
        assert pa.types.is_timestamp(typ) and typ.tz == "UTC"
    assert len(_read(files.signups)) == 1000


def test_jsonl_is_readable(tmp_path):
    files = generate(tmp_path, accounts=1000, seed=2, days=2, fmt="jsonl")
    usage = _read(files.usage)
    assert list(usage.columns) == USAGE_COLUMNS
    assert usage.user_agent.str.contains("/").all()


def test_labels_match_valid_signups_exactly(data):
    labels, valid = data["labels"], data["valid"]
    assert labels.account_id.is_unique and valid.account_id.is_unique
    assert set(labels.account_id) == set(valid.account_id)
    assert len(labels) == N == data["files"].accounts
    bad = data["bad"]
    assert len(bad) == data["files"].dirty_signup_rows > 0
    assert not set(bad.account_id) & set(labels.account_id)


def test_dirty_rows_are_few_and_of_each_kind(data):
    usage, files = data["usage"], data["files"]
    assert 0 < files.dirty_usage_rows <= 0.003 * len(usage)
    assert (usage.account_id == "").any()
    assert (~usage.ts.str.match(ISO_Z)).any()
    assert (pd.to_numeric(usage.input_tokens) < 0).sum() >= 1
    assert len(usage) - len(data["good_usage"]) == files.dirty_usage_rows
    valid = data["valid"]
    for col, value in (("email", "test@test.com"), ("ip", "0.0.0.0"), ("device_id", "unknown")):
        assert (valid[col] == value).sum() >= 2


def test_fraud_share_and_every_scenario_present(data):
    labels = data["labels"]
    share = (labels.label == "fraud").mean()
    assert 0.05 <= share <= 0.07
    assert set(labels.scenario) == SCENARIOS
    fraud = labels[labels.label == "fraud"]
    assert (fraud.ring_id != "").all() and (fraud.group_id == "").all()
    assert (labels[labels.label == "legit"].ring_id == "").all()
    for kind in ("org", "university", "carrier", "family"):
        assert labels[labels.scenario == kind].group_id.nunique() >= 2


def test_every_account_active_and_usage_inside_window(data):
    usage, valid = data["good_usage"], data["valid"]
    start = WINDOW_END - pd.Timedelta(days=DAYS)
    assert usage.ts.min() >= start and usage.ts.max() < WINDOW_END
    assert (usage.ts.dt.minute % 5 == 0).all() and (usage.ts.dt.second == 0).all()
    created = valid.set_index("account_id").created
    assert (usage.ts >= created.loc[usage.account_id].to_numpy()).all()
    assert valid.created.max() < WINDOW_END
    assert set(usage[usage.label == "fraud"].account_id) == set(valid[valid.label == "fraud"]
                                                                .account_id)
    assert (usage.requests == 1).mean() > 0.2
    assert abs(usage.requests.sum() / N - 20) < 4


def _slash24(ip: str) -> str:
    return ip.rsplit(".", 1)[0]


def test_farms_burst_from_one_datacenter_subnet(data):
    farms = data["valid"][data["valid"].scenario == "farm"]
    assert farms.ring_id.nunique() >= 2
    for _, ring in farms.groupby("ring_id"):
        assert ring.created.max() - ring.created.min() <= pd.Timedelta(hours=9)
        assert ring.ip.map(_slash24).nunique() == 1
        assert ring.user_agent.nunique() == 1
        assert ring.payment_id[ring.payment_id != ""].nunique() <= 5


def test_hydras_rotate_ips_and_devices_but_share_few_cards(data):
    hydras = data["valid"][data["valid"].scenario == "hydra"]
    usage = data["good_usage"]
    assert hydras.ring_id.nunique() >= 2
    for ring_id, ring in hydras.groupby("ring_id"):
        assert ring.ip.is_unique
        devices = ring.device_id[ring.device_id != ""]
        assert devices.is_unique
        cards = ring.payment_id[ring.payment_id != ""]
        assert cards.nunique() <= max(1, len(ring) // 3)
        rows = usage[usage.ring_id == ring_id]
        assert rows.ip.nunique() > 0.8 * len(rows)  # a fresh exit for almost every row
        # Waves: in the busiest 5-minute bucket many members act together.
        assert rows.groupby("ts").account_id.nunique().max() >= max(2, len(ring) // 4)
        assert rows.output_tokens.sum() > 3 * rows.input_tokens.sum()


def test_camouflaged_rings_share_no_card_but_voip_phones(data):
    camo = data["valid"][data["valid"].scenario == "camouflaged"]
    cards = camo.payment_id[camo.payment_id != ""]
    assert cards.is_unique
    phones = camo.phone[camo.phone != ""].str.replace(r"\D", "", regex=True).str[-8:]
    assert phones.value_counts().max() >= 2


def test_small_rings_share_a_card_or_device(data):
    small = data["valid"][data["valid"].scenario == "small_ring"]
    for _, ring in small.groupby("ring_id"):
        assert 3 <= len(ring) <= 8
        shared_card = ring.payment_id.nunique() == 1 and ring.payment_id.iloc[0] != ""
        shared_device = ring.device_id.nunique() == 1 and ring.device_id.iloc[0] != ""
        assert shared_card or shared_device


def test_legitimate_groups_share_identifiers_like_rings_do(data):
    valid = data["valid"]
    orgs = valid[valid.scenario == "org"]
    shared = orgs.groupby("group_id").payment_id.agg(lambda s: s.value_counts().iloc[0] /
                                                     len(s))
    assert (shared >= 0.8).mean() >= 0.8  # one corporate card per organisation
    uni = valid[valid.scenario == "university"]
    assert uni.groupby("ip").account_id.nunique().max() >= 8  # campus NAT
    carrier = valid[valid.scenario == "carrier"]
    assert carrier.groupby("ip").account_id.nunique().max() >= 10  # CGNAT
    families = valid[valid.scenario == "family"]
    assert (families.groupby("group_id").ip.nunique() == 1).all()
    # Legit bursts: term-start waves put many students on the same few days.
    days = uni.created.dt.floor("D").value_counts()
    assert days.iloc[:4].sum() >= 0.25 * len(uni)
    # Popular SDK user agents are shared by legit accounts and hydras alike.
    hydra_uas = set(valid[valid.scenario == "hydra"].user_agent) & set(
        valid[valid.label == "legit"].user_agent)
    assert hydra_uas


def test_templates_mix_exclusive_and_popular(data):
    usage = data["good_usage"]
    owners = usage.groupby("prompt_fingerprint").agg(
        accounts=("account_id", "nunique"), labels=("label", "nunique"),
        groups=("group_id", "nunique"), rings=("ring_id", "nunique"))
    # Popular templates are used by many accounts of both labels.
    assert ((owners.accounts >= 50) & (owners.labels == 2)).any()
    org_rows = usage[usage.scenario == "org"]
    org_fp = owners.loc[org_rows.prompt_fingerprint.unique()]
    assert ((org_fp.accounts >= 3) & (org_fp.groups == 1) & (org_fp.labels == 1)).any()
    hydra_rows = usage[usage.scenario == "hydra"]
    exclusive = owners.loc[hydra_rows.prompt_fingerprint]
    assert ((exclusive.rings == 1) & (exclusive.labels == 1)).mean() > 0.6


def test_raw_identifier_formats_are_varied_but_parseable(data):
    valid = data["valid"]
    emails = valid.email[(valid.email != "") & (valid.email != "test@test.com")]
    assert (emails != emails.str.lower()).any()
    assert emails.str.contains(r"\+", regex=True).any()
    assert emails.str.lower().str.endswith("@gmail.com").mean() > 0.2
    phones = valid[valid.phone != ""]
    assert phones.phone.str.startswith("+").any() and phones.phone.str.startswith("00").any()
    assert phones.phone.str.startswith("(").any()
    ok = 0
    for raw, country in zip(phones.phone, phones.country):
        try:
            ok += phonenumbers.is_valid_number(phonenumbers.parse(raw, country or "US"))
        except phonenumbers.NumberParseException:
            pass
    assert ok / len(phones) > 0.85
    ips = [ipaddress.ip_address(ip) for ip in valid.ip if ip]
    assert any(ip.version == 6 for ip in ips) and any(ip.version == 4 for ip in ips)
    assert valid.payment_id[valid.payment_id != ""].str.match(r"^pm_[0-9a-f]{24}$").all()
    assert valid.device_id[~valid.device_id.isin(["", "unknown"])].str.match(
        r"^[0-9a-f]{32}$").all()
    # Account id order says nothing about the group an account belongs to.
    ranked = valid.sort_values("account_id").scenario
    assert (ranked.values[1:] == ranked.values[:-1]).mean() < 0.6


def test_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, accounts=1000, fmt="xlsx")


def test_population_shares_are_stable_across_sizes():
    for n in (1_000, 50_000):
        pop = build_population(n, seed=0)
        scen = pop.cols["scenario"]
        assert 0.05 <= np.isin(scen, FRAUD_KINDS).mean() <= 0.07
        assert len(np.unique(scen)) == len(SCENARIOS)
        assert len(np.unique(pop.cols["ring"][pop.cols["ring"] >= 0])) >= 8
