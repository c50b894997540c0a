"""Casework as a state machine: the derived ban state, ban lists and four-eyes always equal a simple model.

Proposals, approvals, unbans, false-positive decisions (lifting bans or not) and policy
changes run in random order, with analysts typing their names in different ways.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ringwatch.graph.casework import audit, batches, bans, decisions, policy
from ringwatch.graph.casework.analysts import analyst_id
from ringwatch.graph.casework.exports import bans_table
from ringwatch.graph.engines import open_engine

ACCOUNTS = [f"acct_{i}" for i in range(6)]
# Two people, each typing their name several ways.
NAMES = ["ann", " Ann", "ANN\u200b", "bob", "Bob ", "ｂｏｂ"]


class Casework(RuleBasedStateMachine):
    """Casework at random; a model that only replays events says what the store must answer."""

    @initialize()
    def open_store(self):
        self.dir = tempfile.TemporaryDirectory()
        self.engine = open_engine("embedded", Path(self.dir.name) / "bans.duckdb")
        accounts = pd.DataFrame({"account_id": ACCOUNTS, "ring_id": "R-1", "risk_score": [0.9] * 6,
                                 "flagged": True, "reasons": "x", "cluster_id": "acct_0"})
        rings = pd.DataFrame({"cluster_id": ["acct_0"], "ring_id": ["R-1"], "size": [6], "risk_score": [0.9],
                              "flagged": [True]})
        self.engine.save_results({"accounts": accounts, "rings": rings})
        self.banned: dict[str, bool] = {}
        self.flagged = set(ACCOUNTS)
        self.pending: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.above: int | None = policy.RULES["approval_above"].default
        self.events = 0

    def teardown(self):
        self.engine.close()
        self.dir.cleanup()

    def _selection(self, include_banned: bool) -> tuple[str, ...]:
        return tuple(a for a in ACCOUNTS if a in self.flagged and (include_banned or not self.banned.get(a)))

    @rule(above=st.sampled_from([None, 3, 50]))
    def change_policy(self, above):
        if above == self.above:
            with pytest.raises(ValueError, match="already"):
                policy.set_policy(self.engine, "approval-above", policy.Rule.text(above), "lead", "team size")
            return
        policy.set_policy(self.engine, "approval-above", policy.Rule.text(above), "lead", "team size")
        self.above = above
        self.events += 1

    @rule(name=st.sampled_from(NAMES), include_banned=st.booleans())
    def propose(self, name, include_banned):
        selection = self._selection(include_banned)
        if not selection:
            with pytest.raises(ValueError, match="nothing to propose"):
                batches.propose(self.engine, name, include_banned=include_banned)
            return
        waiting = [b for b, (_, accounts) in self.pending.items() if accounts == selection]
        if waiting:
            with pytest.raises(ValueError, match=f"batch {waiting[0]} with the same accounts is already waiting"):
                batches.propose(self.engine, name, include_banned=include_banned)
            return
        b = batches.propose(self.engine, name, include_banned=include_banned)
        assert tuple(sorted(b["accounts"])) == selection and b["proposer"] == analyst_id(name)
        assert b["already_banned"] == (0 if include_banned else
                                       sum(1 for a in ACCOUNTS if a in self.flagged and self.banned.get(a)))
        self.events += 1
        assert b["needs_approval"] == (self.above is not None and len(selection) > self.above)
        if b["needs_approval"]:
            self.pending[b["batch_id"]] = (analyst_id(name), selection)
        else:
            self.banned.update(dict.fromkeys(selection, True))

    @rule(name=st.sampled_from(NAMES), data=st.data())
    def approve(self, name, data):
        if not self.pending:
            return
        batch_id = data.draw(st.sampled_from(sorted(self.pending)))
        proposer, accounts = self.pending[batch_id]
        if analyst_id(name) == proposer:
            with pytest.raises(ValueError, match="four-eyes"):
                batches.approve(self.engine, batch_id, name)
            return
        batches.approve(self.engine, batch_id, name)
        self.events += 1
        del self.pending[batch_id]
        self.banned.update(dict.fromkeys(accounts, True))

    @rule(account=st.sampled_from(ACCOUNTS))
    def unban(self, account):
        if not self.banned.get(account):
            with pytest.raises(ValueError, match="not banned now"):
                batches.unban(self.engine, [account], "bob", "appeal")
            return
        batches.unban(self.engine, [account], "bob", "appeal")
        self.events += 1
        self.banned[account] = False

    @rule(account=st.sampled_from(ACCOUNTS), lift=st.booleans())
    def false_positive(self, account, lift):
        row = decisions.decide(self.engine, account, "false_positive", "ann", "a customer", lift_bans=lift)
        was_banned = bool(self.banned.get(account))
        self.events += 1 + int(lift and was_banned)
        assert row["held_back"] == int(account in self.flagged)
        self.flagged.discard(account)
        if lift and was_banned:
            assert row["lifted"] == [account] and row["still_banned"] == {}
            self.banned[account] = False
        else:
            assert row["lifted"] == [] and set(row["still_banned"]) == ({account} if was_banned else set())

    @invariant()
    def state_matches_the_model(self):
        state = bans.ban_state(self.engine).set_index("account_id")["banned"].to_dict()
        assert state == self.banned
        assert set(bans.banned_now(self.engine).index) == {a for a, b in self.banned.items() if b}

    @invariant()
    def ban_list_is_what_to_ban_next(self):
        table = bans_table(self.engine)
        assert tuple(sorted(table["account_id"])) == self._selection(False)

    @invariant()
    def history_only_grows_and_the_log_verifies(self):
        history = bans.history(self.engine)
        assert (history["event"] == "unban").sum() == sum(1 for _ in self.engine.records("unbans").itertuples())
        check = audit.verify(self.engine)
        assert check.ok and check.entries == self.events


TestCasework = Casework.TestCase
TestCasework.settings = settings(max_examples=12, stateful_step_count=12, deadline=None)
