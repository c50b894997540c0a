"""The `ringwatch` command line: a thin shell that wires ingest, detection and export."""

from __future__ import annotations

import functools
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import click
import duckdb
from tqdm import tqdm

from ringwatch.graph.casework import exports
from ringwatch.graph.detection.pipeline import detect as run_detect
from ringwatch.graph.engines.base import EngineError, open_engine
from ringwatch.graph.reports.evaluation import evaluate as run_evaluate
from ringwatch.graph.load import ingest as run_ingest
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.ingest.errors import ContractError
from ringwatch.ingest.reader import read_records

from .settings import SETTINGS

EXPECTED_ERRORS = (ContractError, EngineError, FileNotFoundError, PermissionError, duckdb.Error, ValueError)


def clear_errors(func):
    """Turn expected failures into one clear line instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    return wrapper


def store_options(func):
    """--db and --engine, shared by every command that touches the store."""
    func = click.option("--engine", "engine_name", default=SETTINGS["engine"].value,
                        show_default="embedded, env RINGWATCH_ENGINE", help=SETTINGS["engine"].help)(func)
    func = click.option("--db", default=SETTINGS["db"].value, show_default="ringwatch.duckdb, env RINGWATCH_DB",
                        type=click.Path(dir_okay=False), help=SETTINGS["db"].help)(func)
    return func


def _progress(desc: str):
    return tqdm(desc=desc, unit=" rows", unit_scale=True, file=sys.stderr, disable=None, leave=False)


def _echo_table(rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    widths = {c: max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in cols}
    click.echo("  ".join(str(c).ljust(widths[c]) for c in cols))
    for r in rows:
        click.echo("  ".join(str(r[c]).ljust(widths[c]) for c in cols))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log progress details.")
@click.version_option(package_name="ringwatch")
def main(verbose: bool) -> None:
    """ringwatch: find, score and explain rings of linked fraudulent accounts.

    Example: ringwatch demo --accounts 10000
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _ingest(db, engine_name, signups, usage, labels, identifiers, quarantine=None):
    with open_engine(engine_name, db) as engine:
        bar = _progress("ingest")
        summary = run_ingest(engine, signups=signups, usage=usage, labels=labels,
                             extra_identifiers=tuple(identifiers), on_batch=lambda b: bar.update(b.rows_read),
                             quarantine_path=quarantine)
        bar.close()
        counts = engine.counts()
    return summary, counts


@main.command()
@click.option("--signups", type=str, help="Signup records: file, directory or glob (CSV, Parquet, JSONL; .gz ok).")
@click.option("--usage", type=str, help="Usage records: file, directory or glob.")
@click.option("--labels", type=str, help="Labels (account_id, label, ring_id) for evaluation.")
@click.option("--identifier", "identifiers", multiple=True, metavar="COLUMN",
              help="Extra signup column to link accounts on, like the built-in identifiers (repeatable).")
@click.option("--quarantine", type=click.Path(dir_okay=False), default=None,
              help="Where to write rejected rows (default: <db>.quarantine.csv).")
@store_options
@clear_errors
def ingest(signups, usage, labels, identifiers, quarantine, db, engine_name):
    """Validate and load records into the store; bad rows go to quarantine.

    Re-running on the same files changes nothing; new files add to the store.

    Example: ringwatch ingest --signups data/signups.csv --usage 'data/usage/*.parquet'
    """
    if not (signups or usage or labels):
        raise click.UsageError("give at least one of --signups, --usage, --labels")
    quarantine = quarantine or f"{db}.quarantine.csv"
    summary, counts = _ingest(db, engine_name, signups, usage, labels, identifiers, quarantine)
    _echo_table(summary.as_rows())
    if Path(quarantine).exists():
        click.echo(f"quarantined rows written to {quarantine}")
    click.echo("store now holds: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@main.command()
@click.option("--seed", default=DetectionParams.seed, show_default=True, type=int, help="Seed for community detection.")
@click.option("--hub-cap", default=DetectionParams.hub_cap, show_default=True, type=int,
              help="Identifier values shared by more accounts are hubs and never link.")
@click.option("--ring-threshold", default=DetectionParams.ring_threshold, show_default=True, type=float,
              help="Risk score at which a cluster becomes a flagged ring.")
@store_options
@clear_errors
def detect(seed, hub_cap, ring_threshold, db, engine_name):
    """Build the account graph, find rings, score and explain them.

    Example: ringwatch detect --seed 7
    """
    params = DetectionParams(seed=seed, hub_cap=hub_cap, ring_threshold=ring_threshold)
    with open_engine(engine_name, db) as engine:
        summary = _detect(engine, params)
    _echo_table([summary.__dict__])


def _detect(engine, params):
    steps = ["identifier degrees", "pair evidence", "clusters", "ring features", "save"]
    bar = tqdm(total=len(steps), desc="detect", file=sys.stderr, disable=None, leave=False)

    def step(label):
        bar.set_postfix_str(label)
        bar.update(1)

    try:
        return run_detect(engine, params, progress=step)
    finally:
        bar.close()


@main.group()
def export():
    """Write accounts, rings or the ban list as CSV.

    Example: ringwatch export bans --out bans.csv
    """


def _export_command(name, build, help_text):
    @export.command(name=name, help=help_text)
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
    @store_options
    @clear_errors
    def command(out, db, engine_name, **filters):
        with open_engine(engine_name, db) as engine:
            n = exports.write_csv(build(engine, **filters), out)
        click.echo(f"wrote {n:,} rows to {out}")

    return command


_export_command("accounts", exports.accounts_table,
                "One row per account: account_id, ring_id, risk_score, flagged, reasons.\n\n"
                "Example: ringwatch export accounts --out accounts.csv")
_export_command("rings", exports.rings_table,
                "One row per ring: ring_id, size, risk_score, first_seen, last_seen, top_evidence.\n\n"
                "Example: ringwatch export rings --out rings.csv")
@export.command(name="bans")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@click.option("--ring", multiple=True, help="Only these ring ids (repeatable).")
@click.option("--min-score", type=float, default=None, help="Only accounts scoring at least this.")
@click.option("--max-score", type=float, default=None, help="Only accounts scoring at most this.")
@click.option("--analyst", default=SETTINGS["analyst"].value, show_default="env RINGWATCH_ANALYST, else your login",
              help="Who is exporting (recorded in the audit log).")
@store_options
@clear_errors
def export_bans(out, ring, min_score, max_score, analyst, db, engine_name):
    """The ban list: flagged accounts with ring and reasons, deterministic order, formula-safe.

    Every ban-list export is recorded in the audit log with its content hash.

    Example: ringwatch export bans --out bans.csv --min-score 0.8
    """
    import getpass

    from ringwatch.graph.casework.batches import record_export

    who = analyst or getpass.getuser()
    with open_engine(engine_name, db) as engine:
        table = exports.bans_table(engine, list(ring) or None, min_score, max_score)
        content = exports.csv_bytes(table)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(content)
        row = record_export(engine, who, content, len(table), str(out),
                            selection={"rings": sorted(ring), "min_score": min_score, "max_score": max_score})
    click.echo(f"wrote {len(table):,} rows to {out} (sha256 {row['content_hash']}, audit entry {row['audit_seq']})")


@main.command()
@click.option("--labels", required=True, type=str, help="Ground-truth labels (account_id, label, ring_id).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@store_options
@clear_errors
def evaluate(labels, as_json, db, engine_name):
    """Compare the last detection with ground truth: precision, recall, F1, ROC AUC, rings recovered.

    Example: ringwatch evaluate --labels ringwatch-demo/labels.parquet
    """
    import pandas as pd

    frames = [b.rows for b in read_records("labels", labels)]
    truth = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    with open_engine(engine_name, db) as engine:
        metrics = run_evaluate(engine.results("accounts"), truth)
    _print_metrics(metrics, as_json)


def _print_metrics(metrics, as_json=False):
    if as_json:
        click.echo(json.dumps(metrics, indent=2, default=str))
        return
    for key, value in metrics.items():
        click.echo(f"{key:32} {value}")


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write the files into.")
@click.option("--accounts", default=10_000, show_default=True, type=click.IntRange(min=100), help="Number of accounts.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same files).")
@click.option("--format", "fmt", default="parquet", show_default=True, type=click.Choice(["parquet", "csv", "jsonl"]))
@clear_errors
def generate(out, accounts, seed, fmt):
    """Write a demo scenario (signups, usage, ground-truth labels) with legitimate sharing and rings.

    Example: ringwatch generate --out demo-data --accounts 100000 --seed 1
    """
    from ringwatch.scenarios.generate import generate as run_generate

    files = run_generate(out, accounts=accounts, seed=seed, fmt=fmt)
    click.echo(f"wrote signups {files.signups}, usage {files.usage}, labels {files.labels}")


@main.command()
@click.option("--accounts", default=20_000, show_default=True, type=click.IntRange(min=100), help="Number of accounts.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed for the scenario.")
@click.option("--out", default="ringwatch-demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the scenario files and exports.")
@click.option("--replace", is_flag=True, help="Wipe a non-empty store (a shared database) before the demo.")
@click.option("--weeks", default=1, show_default=True, type=click.IntRange(1, 12),
              help="Arrive as this many weekly batches, detecting after each.")
@store_options
@clear_errors
def demo(accounts, seed, out, weeks, db, engine_name, replace):
    """Generate a scenario, ingest it, detect rings, export and evaluate, in one go.

    The store is rebuilt from scratch, so it must be new or one a previous demo made.
    With --weeks N the scenario arrives as N weekly batches (rings grow, split, appear
    and go quiet), each ingested and followed by a detection run and a demo analyst team's
    decisions, ban batch and approval, so ring ids, lineage and casework accumulate as
    they would over N weeks.

    Example: ringwatch demo --accounts 100000
    """
    from ringwatch.scenarios.generate import generate as run_generate

    started = time.perf_counter()
    out_dir = Path(out)
    marker = Path(f"{db}.demo")
    if Path(db).exists() and not marker.exists():
        raise click.ClickException(f"{db} holds data that a demo did not create; pass --db with a new path")
    for stale in (Path(db), Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    with open_engine(engine_name, db) as engine:
        held = engine.counts()["accounts"]
        if held and not replace:
            raise click.ClickException(f"the {engine_name} store already holds {held:,} accounts; "
                                       "use an empty database or pass --replace to wipe it for the demo")
        if held:
            engine.clear_store()
    if out_dir.exists():
        shutil.rmtree(out_dir / "data", ignore_errors=True)
    click.echo(f"generating {accounts:,} accounts (seed {seed}) ...")
    marker.write_text("created by ringwatch demo\n")
    if weeks > 1:
        result, counts = _demo_weeks(out_dir, accounts, seed, weeks, db, engine_name)
    else:
        files = run_generate(out_dir / "data", accounts=accounts, seed=seed, fmt="parquet")
        summary, counts = _ingest(db, engine_name, files.signups, files.usage, files.labels, (),
                                  str(out_dir / "quarantine.csv"))
        _echo_table(summary.as_rows())
    written = {}
    with open_engine(engine_name, db) as engine:
        if weeks == 1:
            result = _detect(engine, DetectionParams(seed=seed))
        for name, build in (("accounts", exports.accounts_table), ("rings", exports.rings_table),
                            ("bans", exports.bans_table)):
            path = out_dir / f"{name}.csv"
            exports.write_csv(build(engine), path)
            written[name] = path
        metrics = run_evaluate(engine.results("accounts"), engine.labels())
    click.echo("")
    click.echo(f"store {db}: {counts['accounts']:,} accounts, {counts['usage_rows']:,} usage rows, "
               f"{counts['quarantined']:,} quarantined")
    click.echo(f"found {result.rings} rings, {result.flagged_accounts:,} flagged accounts, "
               f"{result.suppressed_hubs} suppressed hub identifiers")
    click.echo(f"against ground truth: precision {metrics['precision']}, recall {metrics['recall']}, "
               f"F1 {metrics['f1']}, ROC AUC {metrics['roc_auc']}, "
               f"rings recovered {metrics['true_rings_recovered']}/{metrics['true_rings']}")
    for name, path in written.items():
        click.echo(f"{name:9} {path}")
    if (out_dir / "quarantine.csv").exists():
        click.echo(f"{'quarantine':9} {out_dir / 'quarantine.csv'}")
    click.echo(f"done in {time.perf_counter() - started:.1f}s")


def _demo_weeks(out_dir, accounts, seed, weeks, db, engine_name):
    """Ingest the weekly batches one by one, detecting after each; prints one line per week."""
    from ringwatch.graph.demo.analysts import work_the_week
    from ringwatch.graph.detection.lineage import history
    from ringwatch.scenarios.weeks import generate_weeks

    scenario = generate_weeks(out_dir / "data", weeks=weeks, accounts=accounts, seed=seed)
    for week in scenario.weeks:
        _, counts = _ingest(db, engine_name, week.signups, week.usage, week.labels, (),
                            str(out_dir / "quarantine.csv"))
        with open_engine(engine_name, db) as engine:
            result = run_detect(engine, DetectionParams(seed=seed))
            events = history(engine)
            work = work_the_week(engine, week.week, week.end, int(SETTINGS["approval_above"].value()))
        last = events[(events["run_at"] == events["run_at"].max()) & events["flagged"]]
        seen = last["event"].value_counts()
        click.echo(f"week {week.week} ({week.start:%Y-%m-%d} to {week.end:%Y-%m-%d}): "
                   f"+{week.accounts:,} accounts, {week.usage_rows:,} usage rows; {result.rings} rings "
                   f"({', '.join(f'{e} {int(seen.get(e, 0))}' for e in WEEK_EVENTS)})")
        click.echo(f"  demo analysts: {work['decided']} rings decided ({work['confirmed']} confirmed fraud), "
                   + (f"batch {work['batch']} banned {work['banned']:,} accounts" if work["batch"] else "no batch")
                   + (f", {work['unbanned']} ban reversed on appeal" if work["unbanned"] else ""))
    return result, counts


WEEK_EVENTS = ("new", "grown", "split", "merged", "dissolved")
LOGIN_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


def _check_login_secrets(path: Path, port: int) -> None:
    """Refuse a secrets file whose login section would only fail when an analyst clicks Sign in."""
    import tomllib
    from urllib.parse import urlparse

    try:
        auth = tomllib.loads(path.read_text(encoding="utf-8")).get("auth")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path} is not valid TOML: {exc}") from exc
    if not isinstance(auth, dict):
        raise click.ClickException(f"{path} has no [auth] section: see the README's 'Who is acting'")
    missing = [k for k in LOGIN_KEYS if not auth.get(k)]
    if missing:
        raise click.ClickException(f"{path}: [auth] needs {', '.join(missing)} "
                                   "(one OpenID Connect provider, set directly under [auth])")
    redirect = urlparse(str(auth["redirect_uri"]))
    local = redirect.hostname in ("localhost", "127.0.0.1")
    if redirect.path != "/oauth2callback" or (local and redirect.port != port):
        raise click.ClickException(f"{path}: redirect_uri must end in /oauth2callback and, on this machine, use "
                                   f"the dashboard's port (http://localhost:{port}/oauth2callback), "
                                   f"not {auth['redirect_uri']}")


@main.command()
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535),
              help="Local port to serve the dashboard on.")
@click.option("--secrets", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A secrets.toml with an [auth] section: analysts then sign in (OpenID Connect) to act.")
@store_options
@clear_errors
def dashboard(port, secrets, db, engine_name):
    """Start the analysts' dashboard (Streamlit) on the store: rings, evidence, lookup, ban lists.

    Serves on http://localhost:PORT until interrupted. Analysts' decisions, ban batches,
    approvals, exports and unbans are recorded under their name; with --secrets (an [auth]
    section for an OpenID Connect provider) they must sign in, and anonymous visitors can
    only read.

    Example: ringwatch dashboard --db ringwatch.duckdb --port 8501
    """
    import os
    import subprocess

    import ringwatch.dashboard

    if engine_name == "embedded" and not Path(db).exists():
        raise click.ClickException(f"store {db} does not exist: run `ringwatch demo` or pass --db PATH")
    app = Path(ringwatch.dashboard.__file__).with_name("app.py")
    env = dict(os.environ, RINGWATCH_DB=str(Path(db).resolve()), RINGWATCH_ENGINE=engine_name)
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
               "--server.headless", "true", "--server.address", "localhost",
               "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
               "--client.toolbarMode", "viewer"]
    if secrets:
        _check_login_secrets(Path(secrets), port)
        command += ["--secrets.files", str(Path(secrets).resolve())]
    click.echo(f"ringwatch dashboard on http://localhost:{port} (store {db}); Ctrl+C stops it")
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    if code:
        raise click.ClickException(f"the dashboard server stopped with exit code {code}")


def analyst_option(func):
    """--analyst, shared by every command that records an action."""
    return click.option("--analyst", default=SETTINGS["analyst"].value, show_default="env RINGWATCH_ANALYST",
                        help=SETTINGS["analyst"].help)(func)


def _require_analyst(analyst):
    if not analyst:
        raise click.ClickException("who is acting? pass --analyst NAME or set RINGWATCH_ANALYST")
    return analyst


VERDICT_NAMES = {"fraud": "confirmed_fraud", "false-positive": "false_positive", "review": "needs_review"}


@main.command()
@click.argument("target")
@click.option("--as", "verdict", required=True, type=click.Choice(sorted(VERDICT_NAMES)),
              help="fraud (confirmed), false-positive, or review (needs review).")
@click.option("--note", default="", help="Why: pasted into the case and the audit log.")
@analyst_option
@store_options
@clear_errors
def decide(target, verdict, note, analyst, db, engine_name):
    """Record a decision on a ring id or an account id of the last detection run.

    A false-positive decision keeps those accounts from being flagged again on the same
    evidence.

    Example: ringwatch decide R-5e16058edb --as false-positive --note "university lab" --analyst ann
    """
    from ringwatch.graph.casework.decisions import decide as run_decide

    _require_analyst(analyst)
    with open_engine(engine_name, db) as engine:
        row = run_decide(engine, target, VERDICT_NAMES[verdict], analyst, note)
    click.echo(f"{row['target_kind']} {target}: {row['verdict']} by {analyst} (audit entry {row['audit_seq']})"
               + (f"; {row['held_back']:,} accounts are no longer flagged and left every ban list"
                  if row["held_back"] else ""))


@main.group()
def batch():
    """Ban batches: propose, approve (four-eyes), export.

    Example: ringwatch batch propose --min-score 0.8 --analyst ann
    """


@batch.command(name="propose")
@click.option("--ring", multiple=True, help="Only these ring ids (repeatable).")
@click.option("--min-score", type=float, default=None, help="Only accounts scoring at least this.")
@click.option("--max-score", type=float, default=None, help="Only accounts scoring at most this.")
@click.option("--approval-above", type=int, default=lambda: int(SETTINGS["approval_above"].value()),
              show_default="50, env RINGWATCH_APPROVAL_ABOVE", help=SETTINGS["approval_above"].help)
@click.option("--no-four-eyes", is_flag=True, help="Approve on proposal whatever the size.")
@analyst_option
@store_options
@clear_errors
def batch_propose(ring, min_score, max_score, approval_above, no_four_eyes, analyst, db, engine_name):
    """Freeze a selection of the ban list as a batch with a content hash.

    Example: ringwatch batch propose --ring R-5e16058edb --analyst ann
    """
    from ringwatch.graph.casework.batches import propose

    _require_analyst(analyst)
    with open_engine(engine_name, db) as engine:
        row = propose(engine, analyst, ring, min_score, max_score, None if no_four_eyes else approval_above)
    state = "waiting for approval by another analyst" if row["needs_approval"] else "approved"
    click.echo(f"batch {row['batch_id']}: {row['size']:,} accounts, sha256 {row['content_hash']}, {state}")


@batch.command(name="approve")
@click.argument("batch_id")
@analyst_option
@store_options
@clear_errors
def batch_approve(batch_id, analyst, db, engine_name):
    """Approve a batch another analyst proposed (four-eyes).

    Example: ringwatch batch approve B-bfa0d867cd --analyst bob
    """
    from ringwatch.graph.casework.batches import approve

    _require_analyst(analyst)
    with open_engine(engine_name, db) as engine:
        approve(engine, batch_id, analyst)
    click.echo(f"batch {batch_id} approved by {analyst}")


@batch.command(name="export")
@click.argument("batch_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@analyst_option
@store_options
@clear_errors
def batch_export(batch_id, out, analyst, db, engine_name):
    """Write an approved batch's ban list, byte for byte as proposed.

    Example: ringwatch batch export B-bfa0d867cd --out bans.csv --analyst bob
    """
    from ringwatch.graph.casework.batches import export_batch

    _require_analyst(analyst)
    with open_engine(engine_name, db) as engine:
        row = export_batch(engine, batch_id, out, analyst)
    click.echo(f"wrote {row['rows']:,} rows to {out} (sha256 {row['content_hash']})")


@main.command()
@click.argument("accounts", nargs=-1, required=True)
@click.option("--batch", "batch_id", default=None, help="The batch that banned them (checked).")
@click.option("--note", default="", help="Why the ban is lifted.")
@analyst_option
@store_options
@clear_errors
def unban(accounts, batch_id, note, analyst, db, engine_name):
    """Lift bans; the ban stays in the history and the unban is appended.

    Example: ringwatch unban acct_0001096 --note "verified customer" --analyst bob
    """
    from ringwatch.graph.casework.batches import unban as run_unban

    _require_analyst(analyst)
    with open_engine(engine_name, db) as engine:
        rows = run_unban(engine, accounts, analyst, note, batch_id)
    click.echo(f"unbanned {len(rows)} accounts")


@main.group()
def audit():
    """The tamper-evident audit log.

    Example: ringwatch audit verify
    """


@audit.command(name="verify")
@store_options
@clear_errors
def audit_verify(db, engine_name):
    """Check the audit log's hash chain; names the first entry that was edited.

    Example: ringwatch audit verify --db ringwatch.duckdb
    """
    from ringwatch.graph.casework.audit import verify

    with open_engine(engine_name, db) as engine:
        result = verify(engine)
    if not result.ok:
        raise click.ClickException(result.message())
    click.echo(result.message())


@main.command()
@click.option("--since", default=None, help="Start of the window (date); default 7 days before the latest usage.")
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="HTML file to write.")
@store_options
@clear_errors
def review(since, out, db, engine_name):
    """Write the weekly risk review as one self-contained HTML page.

    Example: ringwatch review --since 2026-11-16 --out report.html
    """
    from ringwatch.graph.reports.review import build_review, render_html

    with open_engine(engine_name, db) as engine:
        data = build_review(engine, since)
    Path(out).write_text(render_html(data), encoding="utf-8")
    click.echo(", ".join(f"{k} {v}" for k, v in data.counts.items()))
    click.echo(f"wrote {out}")
