"""The `ringwatch` command line: each command parses its options, makes one library call and prints."""

from __future__ import annotations

import json
import logging

import click

from ringwatch.dashboard.launch import serve
from ringwatch.files import write_file
from ringwatch.graph.casework import exports
from ringwatch.graph.demo.pipeline import ingest_files, run_demo
from ringwatch.graph.detection.params import DetectionParams
from ringwatch.graph.detection.pipeline import detect as run_detect
from ringwatch.graph.detection.training import cross_validated, load_model
from ringwatch.graph.engines import store_files
from ringwatch.graph.reports.evaluation import evaluate_against
from ringwatch.graph.reports.review import build_review, queue_health_lines
from ringwatch.graph.reports.review_page import render_html, window_text
from ringwatch.scenarios.generate import generate as run_generate

from .commands import casework, queue, training
from .commands.common import (
    algorithms_option,
    clear_errors,
    echo_table,
    open_store,
    progress,
    require_analyst,
    selection_options,
    shown,
    store_options,
)
from .commands.training import echo_counts, echo_cv
from .settings import SETTINGS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log progress details.")
@click.version_option(package_name="ringwatch")
def main(verbose: bool) -> None:
    """ringwatch: find, score and explain rings of linked fraudulent accounts.

    Example: ringwatch demo --accounts 10000
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--signups", type=str, help="Signup records: file, directory or glob (CSV, Parquet, JSONL; .gz ok); "
                                           "on the Spark engine also table:NAME or a URI (s3a://...).")
@click.option("--usage", type=str,
              help="Usage records: file, directory or glob; on the Spark engine also table:NAME or a URI.")
@click.option("--labels", type=str, help="Labels (account_id, label, ring_id) for evaluation.")
@click.option("--identifier", "identifiers", multiple=True, metavar="COLUMN[:CLASS]",
              help="Extra signup column to link accounts on, like the built-in identifiers (repeatable); "
                   "CLASS is its sharing class: personal, household (default), organisational, network, "
                   "client or behavioural.")
@click.option("--quarantine", type=click.Path(dir_okay=False), default=None,
              help="Where to write this run's rejected rows (default: <db>.quarantine-<UTC time>.csv); "
                   "an earlier run's file there is kept and this run's goes beside it.")
@store_options
@clear_errors
def ingest(signups, usage, labels, identifiers, quarantine, db, engine_name):
    """Validate and load records into the store; bad rows go to quarantine.

    Re-running on the same files changes nothing; new files add to the store.

    Example: ringwatch ingest --signups data/signups.csv --usage 'data/usage/*.parquet'
    """
    if not (signups or usage or labels):
        raise click.UsageError("give at least one of --signups, --usage, --labels")
    summary, counts = ingest_files(engine_name, db, signups=signups, usage=usage, labels=labels,
                                   identifiers=identifiers, quarantine=quarantine, on_rows=progress().rows)
    echo_table(summary.as_rows())
    if summary.quarantine_file:
        click.echo(f"quarantined rows written to {summary.quarantine_file}")
    else:
        click.echo("no rows quarantined by this run (no quarantine file written)")
    if summary.overlapping_accounts:
        files = ", ".join(f"{source} {n:,}" for source, n in summary.usage_overlaps.items())
        click.echo(f"warning: {summary.overlapping_accounts:,} accounts have usage in overlapping time ranges in "
                   f"more than one file ({files}); rows delivered twice are counted twice unless they carry a "
                   "request_id")
    click.echo("store now holds: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@main.command()
@click.option("--seed", default=DetectionParams.seed, show_default=True, type=int, help="Seed for community detection.")
@click.option("--hub-cap", default=DetectionParams.hub_cap, show_default=True, type=int,
              help="Identifier values shared by more accounts are hubs and never link.")
@click.option("--ring-threshold", default=DetectionParams.ring_threshold, show_default=True, type=float,
              help="Risk score at which a cluster becomes a flagged ring.")
@click.option("--model", "model_name", default=SETTINGS["model"].value, show_default=shown("model"),
              help=SETTINGS["model"].help)
@algorithms_option
@store_options
@clear_errors
def detect(seed, hub_cap, ring_threshold, model_name, db, engine_name):
    """Build the account graph, find rings, score and explain them.

    Example: ringwatch detect --seed 7 --model prior
    """
    params = DetectionParams(seed=seed, hub_cap=hub_cap, ring_threshold=ring_threshold)
    with open_store(engine_name, db) as engine:
        model = load_model(engine, model_name)
        summary = run_detect(engine, params, progress=progress().step, model=model)
    echo_table([summary.__dict__])
    click.echo(f"ring scores from model {model.version}")


@main.group()
def export():
    """Write accounts, rings or the ban list as CSV.

    Example: ringwatch export bans --out bans.csv
    """


def _table_export(name: str, build, help_text: str) -> None:
    @export.command(name=name, help=help_text)
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
    @store_options
    @clear_errors
    def command(out, db, engine_name):
        with open_store(engine_name, db) as engine:
            n = exports.write_csv(build(engine), out)
        click.echo(f"wrote {n:,} rows to {out}")


_table_export("accounts", exports.accounts_table, "One row per account: account_id, ring_id, risk_score, flagged, "
              "reasons.\n\nExample: ringwatch export accounts --out accounts.csv")
_table_export("rings", exports.rings_table, "One row per ring: ring_id, size, risk_score, first_seen, last_seen, "
              "top_evidence.\n\nExample: ringwatch export rings --out rings.csv")


@export.command(name="bans")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@selection_options
@click.option("--analyst", default=SETTINGS["analyst"].value, show_default=shown("analyst"),
              help="Who is exporting (recorded in the audit log); required, as for every analyst action.")
@store_options
@clear_errors
def export_bans(out, ring, min_score, max_score, analyst, db, engine_name):
    """The ban list: flagged accounts with ring and reasons, deterministic order, formula-safe.

    Every ban-list export is recorded in the audit log with its content hash.

    Example: ringwatch export bans --out bans.csv --min-score 0.8
    """
    with open_store(engine_name, db) as engine:
        row = exports.export_bans(engine, require_analyst(analyst), out, ring, min_score, max_score)
    click.echo(f"wrote {row['rows']:,} rows to {out} (sha256 {row['content_hash']}, audit entry {row['audit_seq']})")


@main.command()
@click.option("--labels", type=str, help="Ground-truth labels (account_id, label, ring_id).")
@click.option("--cv", "folds", type=click.IntRange(min=2), default=None,
              help="Instead: grouped K-fold cross-validation of training on the store's labels (stores no model).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@store_options
@clear_errors
def evaluate(labels, folds, as_json, db, engine_name):
    """Compare the last detection with ground truth: precision, recall, F1, ROC AUC, rings recovered.

    With --cv K, report instead how well weights learned from the store's labels (and
    analysts' decisions) score accounts they were not fitted on: K folds that never split a
    cluster or a ring, beside the prior weights on the same accounts.

    Example: ringwatch evaluate --labels ringwatch-demo/labels.parquet
    """
    if bool(labels) == bool(folds):
        raise click.UsageError("give either --labels PATH or --cv K")
    with open_store(engine_name, db) as engine:
        metrics = evaluate_against(engine, labels) if labels else cross_validated(engine, folds)
    if folds and not as_json:
        echo_counts(metrics["counts"], metrics["run"])
        echo_cv(metrics["cv"])
        return
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
@algorithms_option
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
    click.echo(f"generating {accounts:,} accounts (seed {seed}) ...")
    r = run_demo(engine_name, db, out, accounts=accounts, seed=seed, weeks=weeks, replace=replace,
                 progress=progress(), on_week=_echo_week)
    echo_table(r.ingest_rows)
    m = r.metrics
    where = db if store_files(engine_name, db) else f"on the {engine_name} server"
    click.echo(f"\nstore {where}: {r.counts['accounts']:,} accounts, {r.counts['usage_rows']:,} usage rows, "
               f"{r.counts['quarantined']:,} quarantined")
    click.echo(f"found {r.detection.rings} rings, {r.detection.flagged_accounts:,} flagged accounts, "
               f"{r.detection.suppressed_hubs} suppressed hub identifiers")
    click.echo(f"against ground truth: precision {m['precision']}, recall {m['recall']}, F1 {m['f1']}, "
               f"ROC AUC {m['roc_auc']}, rings recovered {m['true_rings_recovered']}/{m['true_rings']}")
    for name, path in {**r.written, **({"quarantine": r.quarantine} if r.quarantine else {})}.items():
        click.echo(f"{name:9} {path}")
    click.echo(f"done in {r.seconds:.1f}s")


def _echo_week(w) -> None:
    click.echo(f"week {w.week} ({w.start:%Y-%m-%d} to {w.end:%Y-%m-%d}): +{w.accounts:,} accounts, "
               f"{w.usage_rows:,} usage rows; {w.rings} rings ({', '.join(f'{e} {n}' for e, n in w.events.items())})")
    work = w.work
    click.echo(f"  demo analysts: {work['decided']} rings decided ({work['confirmed']} confirmed fraud), "
               + (f"batch {work['batch']} banned {work['banned']:,} accounts" if work["batch"] else "no batch")
               + (f", {work['unbanned']} ban reversed on appeal" if work["unbanned"] else ""))


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
    click.echo(f"ringwatch dashboard on http://localhost:{port} (store {db}); Ctrl+C stops it")
    code = serve(db, engine_name, port, secrets)
    if code:
        raise click.ClickException(f"the dashboard server stopped with exit code {code}")


@main.command()
@click.option("--since", default=None, help="Start of the window (date); default 7 days before the latest usage.")
@click.option("--until", default=None,
              help="Last day of the window (date, inclusive); default the day of the latest usage.")
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="HTML file to write.")
@store_options
@clear_errors
def review(since, until, out, db, engine_name):
    """Write the weekly risk review as one self-contained HTML page.

    It counts only what happened inside its window (whole days, UTC) and says so; ring ids
    link to the dashboard when RINGWATCH_DASHBOARD_URL is set.

    Example: ringwatch review --since 2026-11-16 --out report.html
    """
    with open_store(engine_name, db) as engine:
        data = build_review(engine, since, until)
    page = render_html(data)
    write_file(out, page.encode("utf-8"))
    click.echo(", ".join(f"{k} {v}" for k, v in data.counts.items()))
    click.echo(window_text(data))
    click.echo("review queue: " + "; ".join(queue_health_lines(data.queue)))
    click.echo(f"wrote {out}")


for _command in (*casework.COMMANDS, *queue.COMMANDS, *training.COMMANDS):
    main.add_command(_command)
