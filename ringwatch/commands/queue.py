"""Review-queue commands: list the queue, take, release, reassign and comment on rings."""

from __future__ import annotations

import click

from ringwatch.graph.casework import queue as review_queue
from ringwatch.graph.casework.analysts import analyst_id
from ringwatch.graph.reports import queue_views

from .common import (
    analyst_option,
    clear_errors,
    echo_table,
    open_store,
    require_analyst,
    store_options,
)

STATUS_OPTIONS = {"new": "new", "in-review": "in_review", "decided": "decided"}


@click.command(name="queue")
@click.option("--mine", is_flag=True, help="Only the rings you (--analyst) hold.")
@click.option("--owner", default=None, help="Only the rings this analyst holds.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(list(STATUS_OPTIONS)),
              help="Only rings with this status (repeatable); default new and in-review.")
@click.option("--all", "everything", is_flag=True, help="Decided rings too.")
@analyst_option
@store_options
@clear_errors
def queue_list(mine, owner, statuses, everything, analyst, db, engine_name):
    """List the review queue: open rings by risk and age, with owner, status, days waiting and overdue.

    A decided ring's days are its time from first flagged to the decision. The overdue age
    is the store's policy (`ringwatch policy set overdue-days N --note WHY`).

    Example: ringwatch queue --mine --analyst ann
    """
    if mine:
        owner = require_analyst(analyst)
    with open_store(engine_name, db) as engine:
        table = queue_views.queue(engine)
        health = queue_views.health(engine)
    limit = health["overdue after days"]
    click.echo(f"{health['open']:,} open ({health['new']:,} new, {health['in review']:,} in review), "
               + (f"{health['overdue']:,} overdue (open over {limit} days)" if limit is not None
                  else "overdue off (policy overdue-days)"))
    wanted = [STATUS_OPTIONS[s] for s in statuses] or (list(STATUS_OPTIONS.values()) if everything
                                                      else ["new", "in_review"])
    table = table[table["status"].isin(wanted)]
    if owner:
        table = table[table["owner"] == analyst_id(owner)]
    if table.empty:
        click.echo("no rings match")
        return
    echo_table([{"ring": r["ring_id"], "risk": f"{r['risk_score']:.3f}", "size": f"{r['size']:,}",
                 "status": review_queue.STATUS_LABELS[r["status"]], "owner": r["owner"] or "-",
                 "days": f"{r['age_days']:.1f}", "overdue": "OVERDUE" if r["overdue"] else "",
                 "comments": r["comments"]} for r in table.to_dict("records")])


def _done(row: dict) -> None:
    click.echo(f"{review_queue.event_line(review_queue.ACTIONS[row['action']], row)} "
               f"(by {row['analyst']}, audit entry {row['audit_seq']})")


@click.command()
@click.argument("ring_id")
@click.option("--note", default="", help="Optional: what you are about to check.")
@analyst_option
@store_options
@clear_errors
def take(ring_id, note, analyst, db, engine_name):
    """Take a ring from the review queue: you own it until you release it or it is reassigned.

    A ring someone else holds is refused, naming them (`ringwatch assign` moves it, with a note).

    Example: ringwatch take R-5e16058edb --analyst ann
    """
    with open_store(engine_name, db) as engine:
        _done(review_queue.take(engine, ring_id, require_analyst(analyst), note))


@click.command()
@click.argument("ring_id")
@click.option("--note", default="", help="Optional: why, or what is left to do.")
@analyst_option
@store_options
@clear_errors
def release(ring_id, note, analyst, db, engine_name):
    """Give back a ring you hold, so it is new in the queue again (unless decided).

    Example: ringwatch release R-5e16058edb --note "out this week" --analyst ann
    """
    with open_store(engine_name, db) as engine:
        _done(review_queue.release(engine, ring_id, require_analyst(analyst), note))


@click.command()
@click.argument("ring_id")
@click.option("--to", "to", required=True, help="The analyst who gets the ring.")
@click.option("--note", default="", help="Why (required when someone else holds the ring).")
@analyst_option
@store_options
@clear_errors
def assign(ring_id, to, note, analyst, db, engine_name):
    """Give a ring to an analyst; taking it from someone else needs a note.

    Example: ringwatch assign R-5e16058edb --to bob --note "ann is away" --analyst lead
    """
    with open_store(engine_name, db) as engine:
        _done(review_queue.assign(engine, ring_id, to, require_analyst(analyst), note))


@click.command()
@click.argument("ring_id")
@click.argument("text")
@analyst_option
@store_options
@clear_errors
def comment(ring_id, text, analyst, db, engine_name):
    """Add a comment to a ring's case (recorded in the audit log).

    Example: ringwatch comment R-5e16058edb "cards all from one issuer" --analyst ann
    """
    with open_store(engine_name, db) as engine:
        _done(review_queue.comment(engine, ring_id, require_analyst(analyst), text))


COMMANDS = (queue_list, take, release, assign, comment)
