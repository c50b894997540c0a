"""Stores for the dashboard tests: a small demo store plus a synthetic large ring holding injection payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

import ringwatch.dashboard
from ringwatch.cli import main
from ringwatch.graph.detection.pipeline import ring_id
from ringwatch.graph.engines import open_engine
from ringwatch.graph.reports import overview_tables

DEMO_ACCOUNTS = 3000
SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert('img')>"
FORMULA = '=HYPERLINK("http://evil.example","click")'
PAYLOAD_ACCOUNT = FORMULA
ACCOUNT_COLS = ["account_id", "created_at", "email", "email_domain", "phone", "ip", "ip_net", "device_id",
                "user_agent", "payment_id", "country", "org_id", "attributes"]
USAGE_COLS = ["account_id", "ts", "ip", "model", "prompt_fingerprint", "input_tokens", "output_tokens", "requests",
              "user_agent"]


def make_demo_store(folder: Path, accounts: int = DEMO_ACCOUNTS) -> Path:
    """Run `ringwatch demo` into ``folder`` and return the store path."""
    db = folder / "rw.duckdb"
    result = CliRunner().invoke(main, ["demo", "--accounts", str(accounts), "--db", str(db),
                                       "--out", str(folder / "demo")])
    assert result.exit_code == 0, result.output
    return db


def add_synthetic_ring(db: Path, size: int = 2000) -> str:
    """Add a flagged ring of ``size`` accounts (three of them carry injection payloads) to a detected store."""
    ids = [PAYLOAD_ACCOUNT, "synth_script", "synth_img"] + [f"synth_{i:05d}" for i in range(size - 3)]
    t0 = pd.Timestamp("2026-11-01 03:00")
    n = len(ids)
    accounts = pd.DataFrame({c: [None] * n for c in ACCOUNT_COLS})
    accounts["account_id"] = ids
    accounts["created_at"] = [t0 + pd.Timedelta(seconds=40 * i) for i in range(n)]
    accounts["email"] = [FORMULA] + [f"farm{i:05d}@gmail.com" for i in range(1, n)]
    accounts["device_id"] = [SCRIPT if i < 2 else f"dev{i % (size // 10)}" for i in range(n)]
    accounts["user_agent"] = [IMG if i < 3 else "farmbot/1.0" for i in range(n)]
    accounts["payment_id"] = [f"pm_synth{i % (size // 20)}" for i in range(n)]
    accounts["ip"] = [f"10.9.{(i % (size // 7)) // 250}.{(i % (size // 7)) % 250}" for i in range(n)]
    accounts["country"] = "US"
    idents = pd.concat([
        pd.DataFrame({"account_id": ids, "kind": kind, "value": accounts[col]})
        for kind, col in (("device", "device_id"), ("user_agent", "user_agent"), ("payment", "payment_id"),
                          ("ip", "ip"), ("email", "email"))
    ], ignore_index=True)
    usage = pd.DataFrame({
        "account_id": [a for a in ids for _ in range(2)],
        "ts": [t0 + pd.Timedelta(days=1 + k, minutes=5 * (i % 6)) for i in range(n) for k in range(2)],
        "prompt_fingerprint": "synthfp", "requests": 3, "input_tokens": 100, "output_tokens": 900,
    }).reindex(columns=USAGE_COLS)
    usage[["requests", "input_tokens", "output_tokens"]] = usage[["requests", "input_tokens", "output_tokens"]].astype(
        "int64")
    rid = ring_id(ids)
    cluster = min(ids)
    with open_engine("embedded", db) as engine:
        engine.load_accounts(accounts, idents)
        engine.load_usage(usage)
        tables = {name: engine.results(name) for name in ("accounts", "rings", "ring_evidence", "suppressed_hubs",
                                                          "runs")}
        members = pd.DataFrame({
            "account_id": ids, "ring_id": rid, "risk_score": [0.97] * n, "flagged": True,
            "reasons": [FORMULA] + [f"ring {rid} (risk 0.97): synthetic farm"] * (n - 1), "cluster_id": cluster,
        })
        tables["accounts"] = pd.concat([tables["accounts"], members], ignore_index=True)
        shared = idents[idents["kind"].isin(["payment", "device", "user_agent", "ip"])]
        counts = shared.groupby(["kind", "value"])["account_id"].nunique().rename("members").reset_index()
        counts = counts[counts["members"] >= 2]
        evidence = counts.assign(ring_id=rid, accounts=counts["members"], rarity=0.5)
        tables["ring_evidence"] = pd.concat([tables["ring_evidence"], evidence[tables["ring_evidence"].columns]],
                                            ignore_index=True)
        feats = {"burst": 1.0, "identity": 0.95}
        ring = {
            "cluster_id": cluster, "ring_id": rid, "size": n, "risk_score": 0.97, "flagged": True,
            "first_seen": t0, "last_seen": t0 + pd.Timedelta(days=3), "top_evidence": f"{SCRIPT} {IMG}",
            "explanation": json.dumps([{"weight": 2.0, "text": f"client string {IMG} shared"}]),
            "features": json.dumps(feats), "contributions": json.dumps({k: 2 * v for k, v in feats.items()}),
            "evidence_kinds": "device, ip, payment, user_agent", "requests": 6 * n, "output_tokens": 1800 * n,
        }
        tables["rings"] = pd.concat([tables["rings"], pd.DataFrame([ring])], ignore_index=True)
        hub = pd.DataFrame({"kind": ["user_agent"], "value": [SCRIPT], "accounts": [2500]})
        tables["suppressed_hubs"] = pd.concat([tables["suppressed_hubs"], hub], ignore_index=True) \
            if len(tables["suppressed_hubs"]) else hub
        # The Overview's counts go with the accounts they count (as a detection run saves them).
        tables.update(overview_tables.overview_tables(overview_tables.account_fields(engine, tables["accounts"])))
        engine.save_results(tables)
    return rid


APP = str(Path(ringwatch.dashboard.__file__).with_name("app.py"))
APP_TIMEOUT = 60


def open_app(page: str | None = None, secrets: dict | None = None, **state) -> AppTest:
    """Run the dashboard headless (AppTest) with this session state and secrets, optionally on ``page``."""
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    for name, value in (secrets or {}).items():
        at.secrets[name] = value
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def button(at: AppTest, label: str):
    """The AppTest button labelled ``label`` (fails listing the buttons there are)."""
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}: {[b.label for b in at.button]}"
    return found[0]
