"""Bans and unbans as a state machine: the derived state always equals a simple model of the history."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ringwatch.graph.casework import audit
from ringwatch.graph.casework import batches
from ringwatch.graph.engines import open_engine

ACCOUNTS = [f"acct_{i}" for i in range(6)]
ANALYSTS = ["ann", "bob"]


class BanHistory(RuleBasedStateMachine):
    """Propose, approve and unban at random; compare with a model that only replays events."""

    @initialize()
    def open_store(self):
        import tempfile
        from pathlib import Path

        self.dir = tempfile.TemporaryDirectory()
        self.engine = open_engine("embedded", Path(self.dir.name) / "bans.duckdb")
        accounts = pd.DataFrame({"account_id": ACCOUNTS, "ring_id": "R-1", "risk_score": [0.9] * 6,
                                 "flagged": True, "reasons": "x", "cluster_id": "acct_0"})
        self.engine.save_results({"accounts": accounts})
        self.banned: dict[str, bool] = {}
        self.pending: dict[str, tuple[str, list[str]]] = {}
        self.events = 0

    def teardown(self):
        self.engine.close()
        self.dir.cleanup()

    @rule(analyst=st.sampled_from(ANALYSTS), min_score=st.sampled_from([None, 0.95]), above=st.sampled_from([None, 3]))
    def propose(self, analyst, min_score, above):
        if min_score is not None:
            with pytest.raises(ValueError, match="no flagged accounts"):
                batches.propose(self.engine, analyst, min_score=min_score)
            return
        b = batches.propose(self.engine, analyst, approval_above=above)
        self.events += 1
        if b["needs_approval"]:
            self.pending[b["batch_id"]] = (analyst, b["accounts"])
        else:
            self.banned.update({a: True for a in b["accounts"]})

    @rule(analyst=st.sampled_from(ANALYSTS), data=st.data())
    def approve(self, analyst, data):
        if not self.pending:
            return
        batch_id = data.draw(st.sampled_from(sorted(self.pending)))
        proposer, accounts = self.pending[batch_id]
        if analyst == proposer:
            with pytest.raises(ValueError, match="four-eyes"):
                batches.approve(self.engine, batch_id, analyst)
            return
        batches.approve(self.engine, batch_id, analyst)
        self.events += 1
        del self.pending[batch_id]
        self.banned.update({a: True for a in accounts})

    @rule(account=st.sampled_from(ACCOUNTS))
    def unban(self, account):
        if not self.banned.get(account):
            with pytest.raises(ValueError, match="not banned now"):
                batches.unban(self.engine, [account], "bob", "appeal")
            return
        batches.unban(self.engine, [account], "bob", "appeal")
        self.events += 1
        self.banned[account] = False

    @invariant()
    def state_matches_the_model(self):
        state = batches.ban_state(self.engine).set_index("account_id")["banned"].to_dict()
        assert state == self.banned

    @invariant()
    def history_only_grows_and_the_log_verifies(self):
        history = batches.history(self.engine)
        assert (history["event"] == "unban").sum() == sum(1 for _ in self.engine.records("unbans").itertuples())
        check = audit.verify(self.engine)
        assert check.ok and check.entries == self.events


TestBanHistory = BanHistory.TestCase
TestBanHistory.settings = settings(max_examples=15, stateful_step_count=10, deadline=None)
