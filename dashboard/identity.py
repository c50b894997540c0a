"""Who is using the dashboard, and whether they may act.

Two modes, chosen by ``secrets.toml`` (``ringwatch dashboard --secrets PATH``, or
Streamlit's usual ``.streamlit/secrets.toml``):

- **Login configured** (an ``[auth]`` section for an OpenID Connect provider): analysts
  sign in with ``st.login``; the analyst recorded with every action is the signed-in
  user's email (else name, else subject). Anonymous visitors may read, but every action
  (decision, ban proposal, approval, export, unban) is refused. With
  ``[ringwatch] require_login = true`` they see only the sign-in page.
- **No login configured**: analysts type their name (prefilled from the name this browser
  session typed before, ``name_memory``, else ``RINGWATCH_ANALYST``), as on the command
  line; names are self-declared and the sidebar says so. Actions need a name.

Pages render action widgets disabled with the reason (``Identity.refusal``); the writes
in ``actions`` check again, so a stale page cannot act anonymously either.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ringwatch.settings import SETTINGS

from . import name_memory
from .plain import plain

NAME_KEY = "analyst_name"
KEPT_KEY = "_analyst_name_kept"


class ActionRefused(PermissionError):
    """An action the current visitor may not take."""


@dataclass(frozen=True)
class Identity:
    """The analyst behind this session: ``analyst`` is "" for nobody; ``source`` is login, declared or anonymous."""

    analyst: str
    source: str
    login_configured: bool

    @property
    def can_act(self) -> bool:
        """True when actions may be recorded under this identity."""
        return bool(self.analyst)

    def refusal(self, what: str = "this action") -> str:
        """Why ``what`` is refused, or "" when it is allowed."""
        if self.can_act:
            return ""
        if self.login_configured:
            return f"Sign in to take {what}: login is configured, so anonymous visitors can only read."
        return f"Enter your name in the sidebar to take {what}; it is recorded in the audit log."

    def require(self, what: str = "this action") -> str:
        """The analyst name, or ``ActionRefused`` with the reason."""
        if not self.can_act:
            raise ActionRefused(self.refusal(what))
        return self.analyst


def _secrets_section(name: str) -> dict:
    try:
        section = st.secrets.get(name)
    except FileNotFoundError:  # no secrets.toml at all
        return {}
    return dict(section) if section else {}


def login_configured() -> bool:
    """True when secrets.toml configures an OpenID Connect login."""
    return bool(_secrets_section("auth"))


def login_required() -> bool:
    """True when anonymous visitors may not even read (``[ringwatch] require_login = true``)."""
    return login_configured() and bool(_secrets_section("ringwatch").get("require_login", False))


def signed_in() -> bool:
    """True when this session has signed in (``st.user`` carries no sign-in state without a login section)."""
    return bool(st.user.get("is_logged_in", False))


def _signed_in_name() -> str:
    if not signed_in():
        return ""
    for claim in ("email", "name", "sub"):
        value = st.user.get(claim)
        if value:
            return str(value)
    return ""


def current() -> Identity:
    """The identity of this session (reads the sign-in state or the declared name)."""
    if login_configured():
        name = _signed_in_name()
        return Identity(name, "login" if name else "anonymous", True)
    name = str(st.session_state.get(NAME_KEY, "") or "").strip()
    return Identity(name, "declared" if name else "anonymous", False)


def sidebar() -> Identity:
    """Render who is acting (sign in / out, or the name box) in the sidebar; returns the identity."""
    with st.sidebar:
        if login_configured():
            who = current()
            if who.can_act:
                st.caption(f"Signed in as **{plain(who.analyst)}**")
                st.button("Sign out", key="sign_out", on_click=st.logout)
            else:
                st.caption("Not signed in: read only.")
                st.button("Sign in", key="sign_in", type="primary", on_click=st.login)
            return who
        if NAME_KEY not in st.session_state:
            # Streamlit drops a widget's state when a page switches to another (st.switch_page), so
            # the name is also kept under a plain key for this session; a new session (a reload or an
            # opened link) takes the name typed before from the browser's cookie.
            kept = st.session_state.get(KEPT_KEY)
            st.session_state[NAME_KEY] = kept if kept is not None else (name_memory.remembered()
                                                                        or SETTINGS["analyst"].value())
        st.text_input("Your name", key=NAME_KEY, max_chars=name_memory.MAX_CHARS,
                      help="Recorded with your decisions, ban batches, approvals, exports and unbans. Kept across "
                      "reloads in this browser until it closes (a session cookie); links never carry it.")
        st.caption("Names are self-declared: configure login in secrets.toml to require sign-in.")
        who = current()
        st.session_state[KEPT_KEY] = who.analyst
        name_memory.remember(who.analyst)
        return who
