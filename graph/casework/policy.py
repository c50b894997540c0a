"""Store policy: casework rules that belong to the store, not to whoever runs a command.

The four-eyes size (``approval_above``: batches of more accounts need a second analyst) and
the review queue's overdue age (``overdue_days``) are read from the store, never from the
proposer's environment or options, so nobody can approve their own large batch by setting
a variable, and every analyst and the weekly review call the same rings overdue. A policy starts at its documented
default; each change is appended to the ``policy`` ledger and the audit log (who, when,
from what to what, why), and the latest change is the one in force.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engines import Engine
from . import audit
from .analysts import analyst_id

LEDGER = "policy"
OFF = "off"


@dataclass(frozen=True)
class Rule:
    """One store policy: its default and what a value means."""

    name: str
    default: int | None
    help: str

    def parse(self, raw) -> int | None:
        """A value from text: a whole number of at least 0, or ``off``; ValueError in one line otherwise."""
        text = str(raw).strip().lower()
        if text == OFF:
            return None
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0 or text.startswith("+"):
            raise ValueError(f"policy {self.name} takes a whole number of at least 0 or {OFF!r}, got {str(raw)!r}")
        return value

    @staticmethod
    def text(value: int | None) -> str:
        return OFF if value is None else str(value)


RULES = {rule.name: rule for rule in (
    Rule("approval_above", 50, "Batches of more accounts need approval by a second analyst (four-eyes); "
                               f"{OFF!r} approves every batch when proposed."),
    Rule("overdue_days", 7, "Rings open longer than this many days since first flagged are overdue in the review "
                            f"queue; {OFF!r} marks none overdue."),
)}


def _rule(name: str) -> Rule:
    key = name.replace("-", "_")
    if key not in RULES:
        raise ValueError(f"unknown policy {name!r}; policies: {', '.join(RULES)}")
    return RULES[key]


def current(engine: Engine) -> dict[str, int | None]:
    """Every policy's value in force: the latest change recorded, else the default."""
    values = {name: rule.default for name, rule in RULES.items()}
    for row in engine.records(LEDGER).to_dict("records"):
        if row.get("name") in values:
            values[row["name"]] = row["value"]
    return values


def approval_above(engine: Engine) -> int | None:
    """The four-eyes size in force (None: four-eyes off)."""
    return current(engine)["approval_above"]


def set_policy(engine: Engine, name: str, raw, analyst: str, note: str = "", at: str | None = None) -> dict:
    """Change a policy (audited); refuses a change that changes nothing."""
    rule = _rule(name)
    analyst = analyst_id(analyst, "a policy change")
    if not note.strip():
        raise ValueError("say why: a policy change needs --note TEXT")
    value = rule.parse(raw)
    with engine.transaction():
        before = current(engine)[rule.name]
        if value == before:
            raise ValueError(f"policy {rule.name} is already {rule.text(value)}")
        row = {"name": rule.name, "value": value, "previous": before, "note": note, "analyst": analyst,
               "at": at or audit.now_text()}
        return audit.record(engine, LEDGER, "set_policy", analyst, [row], at=row["at"])[0]
