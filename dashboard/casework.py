"""Page pieces for casework: the decision panel shown for a ring or an account."""

from __future__ import annotations

import streamlit as st

from ringwatch.graph.casework.vocabulary import VERDICT_LABELS, VERDICTS, verdict_label
from ringwatch.graph.casework.decisions import NEW_EVIDENCE_RISE

from . import actions, data
from .identity import Identity


def decision_panel(key, who: Identity, target: str, kind: str, related: tuple[str, ...] = ()) -> None:
    """Current decision and history of ``target`` (a ring or account id), and the form to decide."""
    actions.show_flash()
    history = data.decision_history(key, (target, *related))
    own = history[history["target"] == target]
    if len(own):
        latest = own.iloc[0]
        text = (f"Current decision: **{verdict_label(latest['verdict'])}** "
                f"by {latest['analyst']} on {str(latest['at'])[:16].replace('T', ' ')}")
        if latest["verdict"] == "false_positive":
            st.info(f"{text}. False-positive feedback: these accounts left the flagged set and every ban list "
                    "when it was recorded, and the same evidence does not flag them again; they are flagged again "
                    f"only on new evidence (risk up {NEW_EVIDENCE_RISE:.1f} or more, or members it did not cover).")
        elif len(own) > 1 and (own["verdict"] == "false_positive").any():
            st.markdown(f"{text}. It replaces an earlier false-positive decision; the accounts are flagged again "
                        "from the next detection run (`ringwatch detect`).")
        else:
            st.markdown(text)
    else:
        st.caption(f"No decision on this {kind} yet.")
    if kind == "ring":
        earlier = data.earlier_rings(key, target)
        decided = earlier[earlier["decision"] != ""]
        if len(decided):
            st.info(f"This ring came from {len(earlier):,} earlier ring(s) through splits or merges; "
                    f"{len(decided):,} of them carry a decision. Decisions stay with the id they were made on: "
                    "check them before deciding here.")
            st.dataframe(decided, width="stretch", hide_index=True)
        elif len(earlier):
            st.caption(f"Came from {len(earlier):,} earlier undecided ring(s): {', '.join(earlier['ring_id'])}.")
    with st.form(f"decide_{kind}", clear_on_submit=True):
        verdict = st.radio("Decision", list(VERDICTS), format_func=VERDICT_LABELS.get, horizontal=True,
                           key=f"verdict_{kind}")
        note = st.text_area("Note", key=f"note_{kind}", max_chars=2000,
                            placeholder="What you checked and why (kept in the audit log)")
        refusal = who.refusal("a decision")
        submitted = st.form_submit_button(f"Record decision on this {kind}", type="primary",
                                          disabled=not who.can_act, help=refusal or None)
    if refusal:
        st.caption(refusal)
    if submitted:
        row = actions.attempt(actions.decide, key, who, target, verdict, note)
        if row:
            actions.flash(f"Recorded: {target} {verdict_label(row['verdict'])} by {row['analyst']} "
                          f"(audit entry {row['audit_seq']})."
                          + (f" {row['held_back']:,} accounts are no longer flagged and left every ban list."
                             if row["held_back"] else ""))
    if len(history):
        st.subheader("Decision history")
        st.dataframe(history, width="stretch", hide_index=True)
