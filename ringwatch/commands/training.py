"""Learning the ring score from analysts' labels: train a model, and print what cross-validation says."""

from __future__ import annotations

import click

from ringwatch.graph.detection import training

from .common import (
    analyst_option,
    clear_errors,
    echo_table,
    open_store,
    require_analyst,
    store_options,
)

METRIC_COLUMNS = ("accounts", "fraud", "legit", "roc_auc", "precision", "recall", "f1")


def echo_counts(counts: dict, run: dict) -> None:
    """What the training rows hold and which detection run they come from."""
    click.echo(f"{counts['accounts']:,} labelled accounts ({counts['fraud']:,} fraud, {counts['legit']:,} legit) "
               f"in {counts['groups']:,} groups of linked accounts and {counts['clusters']:,} clusters, "
               f"from the detection run of {run['finished_at']} (scored with model {run['model']})")


def echo_cv(cv: dict) -> None:
    """Per fold and pooled metrics of grouped cross-validation, with the prior's on the same accounts."""
    click.echo(f"\ncross-validation: {cv['folds']} folds, no cluster or ring split across folds; "
               f"flagged at ring risk >= {cv['threshold']}")
    blank = lambda v: "-" if v is None else v
    rows = [{"fold": f["fold"], "groups": f["groups"], **{c: blank(f[c]) for c in METRIC_COLUMNS}}
            for f in cv["per_fold"]]
    rows += [{"fold": name, "groups": "", **{c: blank(cv[key][c]) for c in METRIC_COLUMNS}}
             for name, key in (("all (fitted)", "overall"), ("all (prior)", "prior"))]
    echo_table(rows)


@click.command()
@click.option("--cv", "folds", default=training.CV_FOLDS, show_default=True, type=click.IntRange(min=0),
              help="Folds of grouped cross-validation to report before storing (0 skips it).")
@analyst_option
@store_options
@clear_errors
def train(folds, analyst, db, engine_name):
    """Fit the ring score's weights to analysts' labels and store them as a new model version.

    Labels are the store's labels with analysts' decisions over them; each labelled account
    carries its cluster's features from the last detection run. The weights stay near the
    documented priors when labels are few, and keep their signs. `ringwatch detect` then
    scores with the latest model (--model chooses another).

    Example: ringwatch train --cv 5 --analyst ann
    """
    if folds == 1:
        raise click.BadParameter("cross-validation needs at least 2 folds (0 skips it)", param_hint="--cv")
    with open_store(engine_name, db) as engine:
        row = training.train(engine, require_analyst(analyst), folds)
    echo_counts(row["counts"], row["run"])
    if row.get("cv"):
        echo_cv(row["cv"])
    prior = row["prior"]
    click.echo("\nweights (log-odds per feature at full strength):")
    echo_table([{"feature": name, "prior": prior["weights"].get(name, ""), "fitted": weight}
                for name, weight in row["weights"].items()]
               + [{"feature": "(bias)", "prior": prior["bias"], "fitted": row["bias"]}])
    click.echo(f"\nstored model {row['version']} (audit entry {row['audit_seq']}); "
               f"`ringwatch detect` now scores with it")


COMMANDS = (train,)
