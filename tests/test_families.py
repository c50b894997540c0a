"""The scenario-family registry: every family answers the same interface with the same label columns."""

from __future__ import annotations

import pandas as pd
import pytest

from ringwatch.scenarios.families import FAMILIES, LABEL_COLUMNS, family, write_family


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_is_registered_under_its_own_name(name):
    module = family(name)
    assert module.FAMILY == name and callable(module.generate)
    assert all(isinstance(spec, str) for spec in module.IDENTIFIERS)


def _files(files) -> list[bytes]:
    return [path.read_bytes() for path in (files.signups, files.usage, files.labels) if path is not None]


@pytest.mark.parametrize("name", sorted(n for n in FAMILIES if hasattr(family(n), "MIN_ACCOUNTS")))
def test_same_arguments_give_the_same_bytes_and_too_few_accounts_are_refused(name, tmp_path):
    module = family(name)
    size = module.MIN_ACCOUNTS
    first = module.generate(tmp_path / "a", accounts=size, seed=3)
    again = module.generate(tmp_path / "b", accounts=size, seed=3)
    other = module.generate(tmp_path / "c", accounts=size, seed=4)
    assert _files(first) == _files(again)
    assert all(x != y for x, y in zip(_files(first), _files(other)))
    with pytest.raises(ValueError, match=f"at least {size}"):
        module.generate(tmp_path / "d", accounts=size - 1, seed=1)


def test_an_unknown_family_and_incomplete_labels_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario family"):
        family("nope")
    signups = pd.DataFrame({"account_id": ["a"], "created_at": [pd.Timestamp("2026-11-01")]})
    with pytest.raises(ValueError, match="labels lack scenario, group_id"):
        write_family(tmp_path, signups, pd.DataFrame({"account_id": ["a"], "label": ["legit"], "ring_id": [None]}))
    labels = pd.DataFrame({c: ["a" if c == "account_id" else None] for c in LABEL_COLUMNS}).assign(label="fraud",
                                                                                                 ring_id="R1")
    files = write_family(tmp_path, signups, labels, identifiers=("ssn:personal",))
    assert files.usage is None and files.identifiers == ("ssn:personal",)
    assert files.counts["fraud_accounts"] == 1 and files.counts["rings"] == 1
