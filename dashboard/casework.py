"""Page pieces for casework: the decision panel shown for a ring or an account."""

from __future__ import annotations

import streamlit as st
from ringwatch.graph.casework.decisions import NEW_EVIDENCE_RISE
from ringwatch.graph.casework.vocabulary import VERDICT_LABELS, VERDICTS, verdict_label

from . import actions, data
from .identity import Identity
from .plain import plain


def decision_panel(key, who: Identity, target: str, kind: str, related: tuple[str, ...] = ()) -> None:
    """Current decision and history of ``target`` (a ring or account id), and the form to decide."""
    actions.show_flash()
    history = data.decision_history(key, (target, *related))
    own = history[history["target"] == target]
    if len(own):
        latest = own.iloc[0]
        text = (f"Current decision: **{verdict_label(latest['verdict'])}** "
                f"by {plain(latest['analyst'])} on {plain(str(latest['at'])[:16].replace('T', ' '))}")
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
            st.caption(f"Came from {len(earlier):,} earlier undecided ring(s): {plain(', '.join(earlier['ring_id']))}.")
    banned = data.bans_in_force(key, target)
    if len(banned):
        _bans_in_force(key, who, target, banned, own)
    with st.form(f"decide_{kind}", clear_on_submit=True):
        verdict = st.radio("Decision", list(VERDICTS), format_func=VERDICT_LABELS.get, horizontal=True,
                           key=f"verdict_{kind}", index=None)
        note = st.text_area("Note", key=f"note_{kind}", max_chars=2000,
                            placeholder="What you checked and why (kept in the audit log)")
        lift = st.checkbox(f"With a false positive, also lift the {len(banned):,} bans in force (each unban audited)",
                           key=f"lift_{kind}") if len(banned) else False
        refusal = who.refusal("a decision")
        submitted = st.form_submit_button(f"Record decision on this {kind}", type="primary",
                                          disabled=not who.can_act, help=refusal or None)
    if refusal:
        st.caption(refusal)
    if submitted and verdict is None:
        st.error("Choose a decision first.")
    elif submitted:
        row = actions.attempt(actions.decide, key, who, target, verdict, note, lift_bans=bool(lift))
        if row:
            actions.flash(f"Recorded: {target} {verdict_label(row['verdict'])} by {row['analyst']} "
                          f"(audit entry {row['audit_seq']})." + _ban_outcome(row))
    if len(history):
        st.subheader("Decision history")
        st.dataframe(history, width="stretch", hide_index=True)


def _ban_outcome(row: dict) -> str:
    """What a false positive did to flags and bans, in words for the flash message."""
    if row["verdict"] != "false_positive":
        return ""
    text = f" {row['held_back']:,} accounts are no longer flagged and left every ban list."
    if row["lifted"]:
        text += f" Lifted the bans on {len(row['lifted']):,} accounts."
    if row["still_banned"]:
        held_by = ", ".join(sorted(set(row["still_banned"].values())))
        text += f" {len(row['still_banned']):,} of them are still banned by {held_by}."
    return text


def _bans_in_force(key, who: Identity, target: str, banned, own) -> None:
    """Say which of the target's accounts are banned now, and offer to lift them after a false positive."""
    held_by = plain(", ".join(sorted(set(banned["batch_id"]))))
    cleared = len(own) and own.iloc[0]["verdict"] == "false_positive"
    st.warning(f"{len(banned):,} of these accounts are banned now by approved batch(es) {held_by}. "
               + ("The false-positive decision cleared their flags, not their bans."
                  if cleared else "A false-positive decision clears flags, not bans already in force."))
    if cleared:
        lift = st.button(f"Lift these {len(banned):,} bans", key=f"lift_now_{target}", disabled=not who.can_act,
                         help=who.refusal("an unban") or "Recorded as unbans in the audit log, citing the decision.")
        if lift:
            note = f"false positive (decision, audit entry {own.iloc[0]['audit_seq']})"
            rows = actions.attempt(actions.unban, key, who, banned["account_id"].tolist(), note, None)
            if rows:
                actions.flash(f"Lifted the bans on {len(rows):,} accounts of {target}.")
