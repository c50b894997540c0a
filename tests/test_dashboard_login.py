"""Sign-in in a real browser: `ringwatch dashboard --secrets` against a local OpenID Connect provider.

The provider is `oidc-provider-mock`, a real OIDC server (discovery, authorization form,
token and userinfo endpoints, signed ID tokens) run in a thread; Streamlit's own `st.login`
flow talks to it over HTTP. Anonymous visitors can read but not act; signed-in analysts'
actions are recorded under their email; four-eyes holds across two signed-in analysts.
"""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from browser_support import WAIT_MS, new_page, ringwatch, serve_dashboard, settled, shot
from dashboard_store import make_demo_store
from ringwatch.graph.engines import open_engine

pytestmark = pytest.mark.browser

ANN, BOB = "ann@example.com", "bob@example.com"


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub="ann", claims={"email": ANN, "name": "Ann Analyst"}),
             User(sub="bob", claims={"email": BOB, "name": "Bob Lead"})]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def site(tmp_path_factory, provider):
    from browser_support import free_port

    folder = tmp_path_factory.mktemp("login")
    db = make_demo_store(folder)
    with open_engine("embedded", db) as engine:
        rings = engine.results("rings")
    top = rings[rings["flagged"]].sort_values(["risk_score", "ring_id"], ascending=[False, True]).iloc[0]["ring_id"]
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{hashlib.sha256(str(folder).encode()).hexdigest()}"\n'
        'client_id = "ringwatch-dashboard"\n'
        'client_secret = "not-a-real-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    # The analyst variable must not leak into the dashboard: with login on, only sign-in names an analyst.
    with serve_dashboard(db, folder, "--secrets", str(secrets), port=port, env={"RINGWATCH_ANALYST": ""}) as url:
        yield {"url": url, "db": db, "top": top, "folder": folder}


def _sign_in(page, url: str, sub: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(sub)  # the provider's own authorization form
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text(f"Signed in as {email}").wait_for(timeout=WAIT_MS)
    settled(page)


def _button(page, key: str):
    return page.locator(f".st-key-{key} button:visible").first


def test_anonymous_visitors_read_but_cannot_act(browser, site):
    with new_page(browser) as page:
        page.goto(f"{site['url']}/rings?ring={site['top']}")
        page.get_by_text("Not signed in: read only.").wait_for(timeout=WAIT_MS)
        page.get_by_role("tab", name="Decision").click()
        page.get_by_text("Sign in to take a decision").first.wait_for(timeout=WAIT_MS)
        settled(page)
        assert page.get_by_role("button", name="Record decision on this ring").is_disabled()
        shot(page, "login-anonymous-read-only", 1400)
        page.goto(f"{site['url']}/bans")
        page.get_by_text("Sign in to take an export or a ban proposal").first.wait_for(timeout=WAIT_MS)
        settled(page)
        assert _button(page, "bans_csv").is_disabled() and _button(page, "propose_batch").is_disabled()
    with open_engine("embedded", site["db"]) as engine:
        assert engine.records("audit").empty  # nothing was recorded


def test_signed_in_analysts_decide_propose_and_approve_under_four_eyes(browser, site):
    url, top = site["url"], site["top"]
    with new_page(browser) as page:
        _sign_in(page, url, "ann", ANN)
        page.goto(f"{url}/rings?ring={top}")
        page.get_by_role("tab", name="Decision").click()
        page.get_by_text("false positive", exact=True).click()
        page.get_by_label("Note").fill("shared office card, checked with the customer")
        page.get_by_role("button", name="Record decision on this ring").click()
        page.get_by_text(f"Recorded: {top} false positive by {ANN}").wait_for(timeout=WAIT_MS)
        settled(page)
        shot(page, "rings-decision-signed-in", 1600)

        page.goto(f"{url}/bans")
        _button(page, "propose_batch").click()
        page.get_by_text("waiting for approval by an analyst other than").wait_for(timeout=WAIT_MS)
        settled(page)
        page.goto(f"{url}/batches")
        page.get_by_text(f"Four-eyes: {ANN} proposed this batch").first.wait_for(timeout=WAIT_MS)
        settled(page)
        assert _button(page, "approve_batch").is_disabled()
        shot(page, "batches-four-eyes", 1400)

    with open_engine("embedded", site["db"]) as engine:
        decision = engine.records("decisions").iloc[-1]
        proposed = engine.records("batches").iloc[-1]
    assert (decision["target"], decision["verdict"], decision["analyst"]) == (top, "false_positive", ANN)
    assert decision["note"] == "shared office card, checked with the customer"
    assert proposed["proposer"] == ANN and proposed["needs_approval"]

    with new_page(browser) as page:
        _sign_in(page, url, "bob", BOB)
        page.goto(f"{url}/batches")
        _button(page, "approve_batch").click()
        page.get_by_text(f"approved by {BOB}").first.wait_for(timeout=WAIT_MS)
        settled(page)
        with page.expect_download(timeout=WAIT_MS) as info:
            _button(page, "batch_csv").click()
        body = info.value.path().read_bytes()
        shot(page, "batches-approved", 1400)
        page.goto(f"{url}/audit")
        page.get_by_text("Audit log intact: 4 entries").wait_for(timeout=WAIT_MS)
        settled(page)
        shot(page, "audit-log", 1000)

    # The download is the frozen batch, byte for byte what the command line exports.
    cli_out = site["folder"] / "batch-cli.csv"
    subprocess.run([*ringwatch(), "batch", "export", proposed["batch_id"], "--out", str(cli_out), "--analyst", "cli",
                    "--db", str(site["db"])], check=True, capture_output=True)
    assert body == cli_out.read_bytes()
    assert hashlib.sha256(body).hexdigest() == proposed["content_hash"]
    verified = subprocess.run([*ringwatch(), "audit", "verify", "--db", str(site["db"])], capture_output=True,
                              text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with open_engine("embedded", site["db"]) as engine:
        log = engine.records("audit")
    assert list(zip(log["action"], log["analyst"])) == [
        ("decision", ANN), ("propose_batch", ANN), ("approve_batch", BOB), ("export_batch", BOB),
        ("export_batch", "cli")]
