"""The self-declared analyst name, kept across reloads for this browser session in a session cookie.

Streamlit starts a new session on every reload or opened link, so a name held only in
session state is gone each time, and every action button with it. The name is kept in a
cookie with no expiry (a session cookie: it lasts until the browser closes), ``SameSite=Strict``
and scoped to the dashboard's host; the server reads it back from the request that opens
the session (``st.context.cookies``), so the first run of a reloaded page already has it.

Not in the URL: a link to a ring or an account is made to be shared, and a name in it
would make whoever opens it act under someone else's name. A cookie stays in the browser
that typed the name.

The cookie is written by a fixed script (a ``st.components.v2`` component); the name
reaches it only as JSON data and is set with ``encodeURIComponent``, never written into
HTML or code. With login configured none of this is used: the signed-in identity rules.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import unquote

import streamlit as st

COOKIE = "ringwatch_analyst"
MAX_CHARS = 120

_SCRIPT = """
export default function ({ data }) {
  const cookie = "ringwatch_analyst";
  const name = data && typeof data.name === "string" ? data.name : "";
  const held = document.cookie.split("; ").find((c) => c.startsWith(cookie + "="));
  const wanted = encodeURIComponent(name);
  if (name && held !== cookie + "=" + wanted) {
    document.cookie = cookie + "=" + wanted + "; path=/; SameSite=Strict";
  } else if (!name && held) {
    document.cookie = cookie + "=; path=/; SameSite=Strict; max-age=0";
  }
}
"""


def read(cookies) -> str:
    """The name a cookie jar (``st.context.cookies``) holds, decoded and cut to the name box's length; "" for none."""
    raw = (cookies or {}).get(COOKIE) or ""
    return " ".join(unquote(str(raw)).split())[:MAX_CHARS]


def remembered() -> str:
    """The name this browser session declared before (a reload or an opened link), or ""."""
    try:
        return read(st.context.cookies)
    except (AttributeError, RuntimeError):  # no request behind this run (a script run headless)
        return ""


@cache
def _writer():
    return st.components.v2.component("ringwatch.analyst_name_cookie", js=_SCRIPT)


def remember(name: str) -> None:
    """Keep ``name`` (or forget it, when empty) in this browser session's cookie."""
    _writer()(data={"name": name.strip()[:MAX_CHARS]}, key="analyst_name_cookie")
