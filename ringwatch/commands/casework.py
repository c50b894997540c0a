"""Casework commands: decisions, ban batches under four-eyes, unbans and the audit log."""

from __future__ import annotations

import click

from ringwatch.graph.casework import audit, batches, decisions, policy
from ringwatch.graph.casework.vocabulary import VERDICT_OPTIONS

from .common import (
    analyst_option,
    clear_errors,
    include_banned_option,
    open_store,
    require_analyst,
    selection_options,
    store_options,
)


@click.command()
@click.argument("target")
@click.option("--as", "verdict", required=True, type=click.Choice(sorted(VERDICT_OPTIONS)),
              help="fraud (confirmed), false-positive, or review (needs review).")
@click.option("--note", default="", help="Why: pasted into the case and the audit log.")
@click.option("--lift-bans", is_flag=True,
              help="With false-positive: also lift the bans approved batches hold on these accounts (each unban audited).")
@analyst_option
@store_options
@clear_errors
def decide(target, verdict, note, lift_bans, analyst, db, engine_name):
    """Record a decision on a ring id or an account id of the last detection run.

    A false-positive decision keeps those accounts from being flagged again on the same
    evidence and takes them off every ban list; bans already approved stay in force unless
    --lift-bans lifts them (or `ringwatch unban` later).

    Example: ringwatch decide R-5e16058edb --as false-positive --note "university lab" --analyst ann --lift-bans
    """
    with open_store(engine_name, db) as engine:
        row = decisions.decide(engine, target, VERDICT_OPTIONS[verdict], require_analyst(analyst), note,
                               lift_bans=lift_bans)
    click.echo(f"{row['target_kind']} {target}: {row['verdict']} by {row['analyst']} (audit entry {row['audit_seq']})")
    if row["verdict"] != "false_positive":
        return
    click.echo(f"{row['held_back']:,} accounts are no longer flagged and left every ban list")
    if row["lifted"]:
        click.echo(f"lifted the bans on {len(row['lifted']):,} accounts (unbans recorded in the audit log)")
    still = row["still_banned"]
    if still:
        held_by = sorted(set(still.values()))
        click.echo(f"{len(still):,} of its accounts are still banned by approved batch"
                   f"{'es' if len(held_by) > 1 else ''} {', '.join(held_by)}: lift those bans with --lift-bans "
                   f"or `ringwatch unban ACCOUNT... --note TEXT`")


@click.group()
def batch():
    """Ban batches: propose, approve (four-eyes), export.

    Example: ringwatch batch propose --min-score 0.8 --analyst ann
    """


@batch.command(name="propose")
@selection_options
@include_banned_option
@analyst_option
@store_options
@clear_errors
def batch_propose(ring, min_score, max_score, include_banned, analyst, db, engine_name):
    """Freeze a selection of the ban list as a batch with a content hash.

    Accounts banned now are left out (--include-banned keeps them). Batches larger than the
    store's four-eyes size (`ringwatch policy show`) wait for another analyst's approval.

    Example: ringwatch batch propose --ring R-5e16058edb --analyst ann
    """
    with open_store(engine_name, db) as engine:
        row = batches.propose(engine, require_analyst(analyst), ring, min_score, max_score, include_banned)
    state = "waiting for approval by another analyst" if row["needs_approval"] else "approved"
    click.echo(f"batch {row['batch_id']}: {row['size']:,} accounts, sha256 {row['content_hash']}, {state}")
    if row["already_banned"]:
        click.echo(f"left out {row['already_banned']:,} accounts of the selection that are banned already "
                   "(--include-banned keeps them)")


@batch.command(name="approve")
@click.argument("batch_id")
@analyst_option
@store_options
@clear_errors
def batch_approve(batch_id, analyst, db, engine_name):
    """Approve a batch another analyst proposed (four-eyes).

    Example: ringwatch batch approve B-bfa0d867cd --analyst bob
    """
    with open_store(engine_name, db) as engine:
        row = batches.approve(engine, batch_id, require_analyst(analyst))
    click.echo(f"batch {batch_id} approved by {row['approver']}")


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
    with open_store(engine_name, db) as engine:
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
    with open_store(engine_name, db) as engine:
        rows = batches.unban(engine, accounts, require_analyst(analyst), note, batch_id)
    click.echo(f"unbanned {len(rows)} accounts")


@click.group(name="audit")
def audit_group():
    """The tamper-evident audit log.

    Example: ringwatch audit verify
    """


@audit_group.command(name="verify")
@click.option("--head", "head_hash", default=None, metavar="HASH",
              help="A head hash printed earlier by `ringwatch audit head`: prove it is still in the chain.")
@store_options
@clear_errors
def audit_verify(head_hash, db, engine_name):
    """Check the hash chain and every ledger row against its entry, both ways; names the first mismatch.

    Example: ringwatch audit verify --db ringwatch.duckdb --head 3f9a...
    """
    with open_store(engine_name, db) as engine:
        result = audit.verify(engine, head_hash)
    if not result.ok:
        raise click.ClickException(result.message())
    click.echo(result.message())


@audit_group.command(name="head")
@store_options
@clear_errors
def audit_head(db, engine_name):
    """Print the last entry's number and hash: keep it outside the store, verify against it later.

    Example: ringwatch audit head >> ~/ringwatch-audit-heads.txt
    """
    with open_store(engine_name, db) as engine:
        seq, digest = audit.head(engine)
    click.echo(f"entry {seq} {digest}")


@click.group(name="policy")
def policy_group():
    """Store policy: rules that belong to the store, such as the four-eyes size (changes are audited).

    Example: ringwatch policy set approval-above 100 --note "team of six" --analyst lead
    """


@policy_group.command(name="show")
@store_options
@clear_errors
def policy_show(db, engine_name):
    """Print every policy in force.

    Example: ringwatch policy show
    """
    with open_store(engine_name, db) as engine:
        values = policy.current(engine)
    for name, value in values.items():
        click.echo(f"{name.replace('_', '-')}: {policy.Rule.text(value)}  ({policy.RULES[name].help})")


@policy_group.command(name="set")
@click.argument("name")
@click.argument("value")
@click.option("--note", default="", help="Why (required; recorded in the audit log).")
@analyst_option
@store_options
@clear_errors
def policy_set(name, value, note, analyst, db, engine_name):
    """Change a policy; recorded in the audit log with the value before.

    Example: ringwatch policy set approval-above 100 --note "team of six" --analyst lead
    """
    with open_store(engine_name, db) as engine:
        row = policy.set_policy(engine, name, value, require_analyst(analyst), note)
    click.echo(f"{row['name'].replace('_', '-')}: {policy.Rule.text(row['previous'])} -> "
               f"{policy.Rule.text(row['value'])} by {row['analyst']} (audit entry {row['audit_seq']})")


COMMANDS = (decide, batch, unban, audit_group, policy_group)
