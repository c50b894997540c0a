"""Which engines exist, and opening one by name: the only place that knows engine names.

An engine is a class in a folder of its own; adding one is that folder plus one line in
``ENGINES`` (module path and class name, imported only when the engine is used, so an
engine's driver is never loaded by a run that does not use it).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ringwatch.settings import SETTINGS

from .base import Engine
from .errors import EngineError

ENGINES: dict[str, str] = {
    "embedded": "ringwatch.graph.engines.embedded.engine:EmbeddedEngine",
    "neo4j": "ringwatch.graph.engines.neo4j.engine:Neo4jEngine",
    "spark": "ringwatch.graph.engines.spark.engine:SparkEngine",
}


def engine_names() -> tuple[str, ...]:
    """The engines ``--engine`` accepts."""
    return tuple(ENGINES)


def engine_class(name: str | None = None) -> type[Engine]:
    """The engine class registered under ``name`` (default: the ``engine`` setting)."""
    name = (name or SETTINGS["engine"].value()).lower()
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def open_engine(name: str | None = None, location=None) -> Engine:
    """Open the named engine (default: embedded) on the store at ``location``.

    ``location`` is the store file of a file-backed engine (default: the ``db`` setting);
    an engine on a server ignores it and takes its server from its own settings.
    """
    return engine_class(name).open(location if location is not None else SETTINGS["db"].value())


def store_files(name: str | None, location) -> tuple[Path, ...]:
    """The files a file-backed engine keeps its store in at ``location`` (none for a server engine)."""
    return engine_class(name).store_files(location if location is not None else SETTINGS["db"].value())


def require_store(name: str | None, location) -> None:
    """Refuse a file-backed store that does not exist (a mistyped path would otherwise start an empty one)."""
    files = store_files(name, location)
    if files and not files[0].exists():
        raise EngineError(f"store {files[0]} does not exist: check --db (or RINGWATCH_DB); "
                          "`ringwatch ingest` or `ringwatch demo` creates a store")


def store_version(name: str | None, location) -> float:
    """When a file-backed store last changed (its files' latest modification time); 0.0 for a server engine."""
    times = [f.stat().st_mtime for f in store_files(name, location) if f.exists()]
    return max(times) if times else 0.0
