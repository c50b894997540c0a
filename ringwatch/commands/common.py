"""What every command shares: store and analyst options, one-line errors, progress bars, tables."""

from __future__ import annotations

import functools
import sys

import click
from tqdm import tqdm

from ringwatch.dashboard.launch import LaunchError
from ringwatch.files import WriteError
from ringwatch.graph.demo.pipeline import Progress
from ringwatch.graph.detection.pipeline import DETECTION_STEPS
from ringwatch.graph.engines import EngineError, open_engine, require_store
from ringwatch.ingest.errors import ContractError
from ringwatch.settings import SETTINGS, override

EXPECTED_ERRORS = (ContractError, EngineError, LaunchError, WriteError, FileNotFoundError, PermissionError, ValueError)


def clear_errors(func):
    """Turn expected failures into one clear line instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    return wrapper


def shown(name: str, extra: str = "") -> str:
    """A setting's default and environment variable, as an option's help shows them."""
    setting = SETTINGS[name]
    return ", ".join(part for part in (setting.default, f"env {setting.env}", extra) if part)


def _set_wait(ctx, param, value):
    """--wait: passed to the engine through its setting, so every store this command opens waits as long."""
    if value is not None:
        override("lock_wait", value)
    return value


def store_options(func):
    """--db, --engine and --wait, shared by every command that touches the store."""
    func = click.option("--wait", type=click.IntRange(min=0), default=None, expose_value=False, callback=_set_wait,
                        metavar="SECONDS", help=f"{SETTINGS['lock_wait'].help} [default: {shown('lock_wait')}]")(func)
    func = click.option("--engine", "engine_name", default=SETTINGS["engine"].value,
                        show_default=shown("engine"), help=SETTINGS["engine"].help)(func)
    return click.option("--db", default=SETTINGS["db"].value, show_default=shown("db"),
                        type=click.Path(dir_okay=False), help=SETTINGS["db"].help)(func)


def _set_algorithms(ctx, param, value):
    if value is not None:
        override("neo4j_algorithms", value)
    return value


def algorithms_option(func):
    """--algorithms: where a Neo4j engine runs the graph algorithms (other engines run them where they always do)."""
    return click.option("--algorithms", type=click.Choice(["auto", "gds", "local"]), default=None,
                        expose_value=False, callback=_set_algorithms,
                        help=f"{SETTINGS['neo4j_algorithms'].help} [default: {shown('neo4j_algorithms')}]")(func)


def open_store(engine_name, db):
    """Open an existing store: a mistyped path is refused, naming it, instead of starting an empty store.

    Only ``ingest`` and ``demo`` create stores.
    """
    require_store(engine_name, db)
    return open_engine(engine_name, db)


def analyst_option(func):
    """--analyst, shared by every command that records an action."""
    return click.option("--analyst", default=SETTINGS["analyst"].value, show_default=shown("analyst"),
                        help=SETTINGS["analyst"].help)(func)


def selection_options(func):
    """--ring, --min-score, --max-score: a selection of the ban list."""
    func = click.option("--max-score", type=float, default=None, help="Only accounts scoring at most this.")(func)
    func = click.option("--min-score", type=float, default=None, help="Only accounts scoring at least this.")(func)
    return click.option("--ring", multiple=True, help="Only these ring ids (repeatable).")(func)


def include_banned_option(func):
    """--include-banned: keep accounts banned now in a ban-list selection."""
    return click.option("--include-banned", is_flag=True,
                        help="Keep accounts that are banned already (left out by default).")(func)


class _Bars:
    """Progress bars on a terminal, made when first needed (none when output is redirected)."""

    def __init__(self):
        self._rows = self._steps = None

    def rows(self, n: int) -> None:
        if self._rows is None:
            self._rows = tqdm(desc="ingest", unit=" rows", unit_scale=True, file=sys.stderr, disable=None, leave=False)
        self._rows.update(n)

    def step(self, label: str) -> None:
        if self._steps is None:
            self._steps = tqdm(total=len(DETECTION_STEPS), desc="detect", file=sys.stderr, disable=None, leave=False)
        self._steps.set_postfix_str(label)
        self._steps.update(1)
        if label == DETECTION_STEPS[-1]:
            self._steps.close()
            self._steps = None


def progress() -> Progress:
    bars = _Bars()
    return Progress(rows=bars.rows, step=bars.step)


def echo_table(rows: list[dict]) -> None:
    if not rows:
        return
    widths = {c: max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in rows[0]}
    for line in [{c: c for c in widths}, *rows]:
        click.echo("  ".join(str(line[c]).ljust(widths[c]) for c in widths).rstrip())


def require_analyst(analyst):
    if not analyst:
        raise click.ClickException("who is acting? pass --analyst NAME or set RINGWATCH_ANALYST")
    return analyst
