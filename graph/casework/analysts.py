"""Who is acting: analyst identities in one canonical form, for storage and for the four-eyes comparison.

``Ann``, ``ann ``, `` ann``, ``ann`` with a zero-width space and ``ＡＮＮ`` (full-width
letters) are one person. An identity is normalised before it is compared or stored:
Unicode NFKC (compatibility forms folded), format characters removed (zero-width spaces
and joiners, bidirectional marks, soft hyphens: Unicode category Cf), runs of whitespace
made one space, leading and trailing space stripped, then case-folded. Control characters
(NUL, escape, ...) are refused rather than stripped: nobody types them by accident.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
MAX_LENGTH = 200


def analyst_id(raw, what: str = "an analyst action") -> str:
    """The canonical identity of an analyst name; ValueError when none is left or it holds control characters."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ValueError(f"an analyst name must be text, got {type(raw).__name__}")  # noqa: TRY004 (one clear line)
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in text):
        raise ValueError("an analyst name cannot hold control characters")
    text = _SPACES.sub(" ", text).strip().casefold()
    if not text:
        raise ValueError(f"{what} needs an analyst: pass --analyst NAME or set RINGWATCH_ANALYST")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"an analyst name is at most {MAX_LENGTH} characters")
    return text


def same_analyst(a, b) -> bool:
    """Whether two names are one identity (both normalised; an empty or invalid name matches nothing)."""
    try:
        return analyst_id(a) == analyst_id(b)
    except ValueError:
        return False
