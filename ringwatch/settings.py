"""Settings declared once: name, default, environment variable and help."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    env: str
    help: str

    def value(self) -> str:
        """The value from the environment, else the default."""
        return os.environ.get(self.env) or self.default


SETTINGS = {
    "db": Setting("db", "ringwatch.duckdb", "RINGWATCH_DB", "Store path (embedded engine: a DuckDB file)."),
    "engine": Setting("engine", "embedded", "RINGWATCH_ENGINE", "Graph engine: embedded (default)."),
    "analyst": Setting("analyst", "", "RINGWATCH_ANALYST", "Who is acting (recorded in the audit log)."),
    "approval_above": Setting("approval_above", "50", "RINGWATCH_APPROVAL_ABOVE",
                              "Batches of more accounts need approval by a second analyst (four-eyes)."),
}
