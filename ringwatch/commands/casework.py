"""Casework commands: decisions, ban batches under four-eyes, unbans and the audit log."""

from __future__ import annotations

import click

from ringwatch.graph.casework import audit, batches, decisions
from ringwatch.graph.casework.vocabulary import VERDICT_OPTIONS
from ringwatch.graph.engines import open_engine
from ringwatch.settings import SETTINGS

from .common import analyst_option, clear_errors, require_analyst, selection_options, shown, store_options


@click.command()
@click.argument("target")
@click.option("--as", "verdict", required=True, type=click.Choice(sorted(VERDICT_OPTIONS)),
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
    with open_engine(engine_name, db) as engine:
        row = decisions.decide(engine, target, VERDICT_OPTIONS[verdict], require_analyst(analyst), note)
    click.echo(f"{row['target_kind']} {target}: {row['verdict']} by {analyst} (audit entry {row['audit_seq']})"
               + (f"; {row['held_back']:,} accounts are no longer flagged and left every ban list"
                  if row["held_back"] else ""))


@click.group()
def batch():
    """Ban batches: propose, approve (four-eyes), export.

    Example: ringwatch batch propose --min-score 0.8 --analyst ann
    """


@batch.command(name="propose")
@selection_options
@click.option("--approval-above", type=int, default=lambda: SETTINGS["approval_above"].integer(),
              show_default=shown("approval_above"), help=SETTINGS["approval_above"].help)
@click.option("--no-four-eyes", is_flag=True, help="Approve on proposal whatever the size.")
@analyst_option
@store_options
@clear_errors
def batch_propose(ring, min_score, max_score, approval_above, no_four_eyes, analyst, db, engine_name):
    """Freeze a selection of the ban list as a batch with a content hash.

    Example: ringwatch batch propose --ring R-5e16058edb --analyst ann
    """
    with open_engine(engine_name, db) as engine:
        row = batches.propose(engine, require_analyst(analyst), ring, min_score, max_score,
                              None if no_four_eyes else approval_above)
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
    with open_engine(engine_name, db) as engine:
        batches.approve(engine, batch_id, require_analyst(analyst))
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
    with open_engine(engine_name, db) as engine:
        row = batches.export_batch(engine, batch_id, out, require_analyst(analyst))
    click.echo(f"wrote {row['rows']:,} rows to {out} (sha256 {row['content_hash']})")


@click.command()
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
    with open_engine(engine_name, db) as engine:
        rows = batches.unban(engine, accounts, require_analyst(analyst), note, batch_id)
    click.echo(f"unbanned {len(rows)} accounts")


@click.group(name="audit")
def audit_group():
    """The tamper-evident audit log.

    Example: ringwatch audit verify
    """


@audit_group.command(name="verify")
@store_options
@clear_errors
def audit_verify(db, engine_name):
    """Check the audit log's hash chain; names the first entry that was edited.

    Example: ringwatch audit verify --db ringwatch.duckdb
    """
    with open_engine(engine_name, db) as engine:
        result = audit.verify(engine)
    if not result.ok:
        raise click.ClickException(result.message())
    click.echo(result.message())


COMMANDS = (decide, batch, unban, audit_group)
