"""Stored text shown as text: user-supplied strings escaped before Streamlit's Markdown sees them.

Streamlit renders Markdown (images, links, colours, maths, emoji codes) in captions,
messages and headings. Analyst names, notes, account ids and every other stored string
come from users, so they are escaped wherever they are put into such text: an analyst named
``![t](http://host/a.png)`` is shown as those characters, and the browser fetches nothing.
"""

from __future__ import annotations

import re

# What gives text a meaning inside a line: emphasis, code, links and images, HTML, strike,
# maths, tables, Streamlit's directives (``:red[...]``, ``:smile:``: a colon before a letter).
# An underscore between two letters or digits (``acct_0001``) never marks emphasis.
_INLINE = re.compile(r"([\\`*\[\]<>~$&!|{}#]|:(?=[A-Za-z])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# What starts a block at the beginning of a line: a heading, quote, list item or rule.
_LEADING = re.compile(r"^(\s*|\s*\d+)([-+=>.)])")


def plain(value) -> str:
    """``value`` as literal text inside Markdown: on one line, every character with a meaning escaped."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())  # a line break would let a heading, list or block start
    text = _INLINE.sub(r"\\\1", text)
    return _LEADING.sub(r"\1\\\2", text)
