"""Turn normalised signups into one row per (account, identifier) for the graph layer."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .errors import ContractError
from .schema import DEFAULT_CLASS, SHARING_CLASSES

# Normalised signups column -> identifier kind. The graph layer decides weights, and which
# kinds link (it skips free email domains via normalise.is_free_email_domain).
IDENTIFIER_KINDS: dict[str, str] = {
    "email": "email",
    "email_domain": "email_domain",
    "phone": "phone",
    "ip": "ip",
    "ip_net": "ip_net",
    "device_id": "device",
    "user_agent": "user_agent",
    "payment_id": "payment",
    "org_id": "org",
}
CUSTOM_PREFIX = "custom:"
IDENTIFIER_COLUMNS = ("account_id", "kind", "value")


def declared_identifier(spec: str) -> tuple[str, str]:
    """(column, kind) of a declared identifier, ``COLUMN`` or ``COLUMN:CLASS``.

    The kind is ``custom:<column>`` for the default class and ``custom:<class>:<column>``
    otherwise, so the class travels with every stored value of the column.
    """
    column, _, sharing = str(spec).strip().lower().partition(":")
    if sharing and sharing not in SHARING_CLASSES:
        raise ContractError(f"identifier {spec!r}: unknown sharing class {sharing!r}; "
                            f"classes: {', '.join(SHARING_CLASSES)}")
    if not sharing or sharing == DEFAULT_CLASS:
        return column, CUSTOM_PREFIX + column
    return column, f"{CUSTOM_PREFIX}{sharing}:{column}"


def declared_columns(specs: Iterable[str]) -> tuple[str, ...]:
    """The signup columns named by identifier declarations (``COLUMN`` or ``COLUMN:CLASS``)."""
    return tuple(declared_identifier(spec)[0] for spec in specs)


def melt_identifiers(signups: pd.DataFrame, extra_identifiers: Iterable[str] = ()) -> pd.DataFrame:
    """One de-duplicated row per (account_id, kind, value); nulls dropped.

    Declared columns (``COLUMN`` or ``COLUMN:CLASS``) become kind ``custom:<column>`` or
    ``custom:<class>:<column>`` (``declared_identifier``).
    """
    columns = dict(IDENTIFIER_KINDS)
    for spec in extra_identifiers:
        name, kind = declared_identifier(spec)
        columns[name] = kind
    missing = [c for c in ["account_id", *columns] if c not in signups.columns]
    if missing:
        raise ContractError(
            f"normalised signups lack column(s) {', '.join(missing)}; "
            "expected the output of read_records('signups', ...)"
        )
    parts = []
    for column, kind in columns.items():
        part = signups[["account_id", column]].dropna()
        parts.append(pd.DataFrame({
            "account_id": part["account_id"].astype("str"),
            "kind": pd.Series(kind, index=part.index, dtype="str"),
            "value": part[column].astype("str"),
        }))
    melted = pd.concat(parts, ignore_index=True)[list(IDENTIFIER_COLUMNS)]
    # Each column is its own kind, so a row can repeat only when an account id does: then,
    # and only then, is the hashing of every row worth its cost.
    if signups["account_id"].duplicated().any():
        melted = melted.drop_duplicates(ignore_index=True)
    return melted
