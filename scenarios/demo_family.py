"""The demo scenario as a family: the generator behind `ringwatch demo` (``generate``)."""

from __future__ import annotations

from .families import FamilyFiles
from .generate import generate as generate_demo

FAMILY = "demo"
IDENTIFIERS: tuple[str, ...] = ()


def generate(out_dir, *, accounts: int, seed: int) -> FamilyFiles:
    """The demo scenario's files (Parquet), with ground truth."""
    files = generate_demo(out_dir, accounts=accounts, seed=seed, fmt="parquet")
    return FamilyFiles(signups=files.signups, labels=files.labels, usage=files.usage, identifiers=IDENTIFIERS,
                       counts={"accounts": files.accounts, "fraud_accounts": files.fraud_accounts,
                               "rings": files.rings, "usage_rows": files.usage_rows})
