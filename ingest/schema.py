"""The data contract: which columns each record kind has, which are required, what they mean.

This is the single declaration of the input schema (see DATA_CONTRACT.md); validation, the
command line and the README all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One input column of the contract."""

    name: str
    required: bool
    type: str
    meaning: str


SIGNUPS = (
    Column("account_id", True, "string", "unique account key"),
    Column("created_at", True, "timestamp", "when the account was created"),
    Column("email", False, "string", "raw address; normalised (case, dots and +tags where "
           "the provider ignores them), domain derived"),
    Column("phone", False, "string", "raw number in any common format; normalised to E.164"),
    Column("ip", False, "string", "signup IP (v4 or v6); /24 (v4) or /48 (v6) network derived"),
    Column("device_id", False, "string", "client/device fingerprint"),
    Column("user_agent", False, "string", "raw user agent or SDK/client string"),
    Column("payment_id", False, "string", "tokenised payment instrument fingerprint"),
    Column("country", False, "string", "ISO-3166 alpha-2"),
    Column("org_id", False, "string", "organisation/workspace the account declared"),
)

USAGE = (
    Column("account_id", True, "string", "who made the request"),
    Column("ts", True, "timestamp", "when (the bucket start for aggregated rows)"),
    Column("ip", False, "string", "request IP"),
    Column("model", False, "string", "model name/version requested"),
    Column("prompt_fingerprint", False, "string", "hash of the normalised prompt or template"),
    Column("input_tokens", False, "integer", "input token count (default 0)"),
    Column("output_tokens", False, "integer", "output token count (default 0)"),
    Column("requests", False, "integer", "number of requests the row stands for (default 1)"),
    Column("user_agent", False, "string", "client/SDK string"),
    Column("request_id", False, "string", "unique id of the request or bucket; a row whose id "
           "was loaded before is a duplicate (re-delivered logs)"),
)

LABELS = (
    Column("account_id", True, "string", "account the label is about"),
    Column("label", True, "label", "`fraud` or `legit`"),
    Column("ring_id", False, "string", "known ring/campaign the account belongs to"),
)

DATA_CONTRACT: dict[str, tuple[Column, ...]] = {
    "signups": SIGNUPS,
    "usage": USAGE,
    "labels": LABELS,
}

# Columns of the normalised frames handed to the store, in this exact order.
# Timestamps are UTC, timezone-naive datetime64[us]; counts are nullable Int64; all else str.
SIGNUPS_OUTPUT = (
    "account_id", "created_at", "email", "email_domain", "phone", "ip", "ip_net",
    "device_id", "user_agent", "payment_id", "country", "org_id", "attributes",
)
USAGE_OUTPUT = (
    "account_id", "ts", "ip", "model", "prompt_fingerprint",
    "input_tokens", "output_tokens", "requests", "user_agent", "request_id",
)
LABELS_OUTPUT = ("account_id", "label", "ring_id", "attributes")

OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "signups": SIGNUPS_OUTPUT,
    "usage": USAGE_OUTPUT,
    "labels": LABELS_OUTPUT,
}

QUARANTINE_COLUMNS = ("source", "row", "column", "value", "reason")

# How much sharing an identifier kind should see among honest users (the data contract's
# sharing classes). A declared identifier takes one with `COLUMN:CLASS`, else DEFAULT_CLASS.
SHARING_CLASSES = ("personal", "household", "organisational", "network", "client", "behavioural")
DEFAULT_CLASS = "household"

# Bounds beyond which a value is not data but a bug upstream.
EARLIEST_TIMESTAMP = "2000-01-01"
MAX_TOKENS_PER_ROW = 10_000_000
MAX_REQUESTS_PER_ROW = 1_000_000


def check_kind(kind: str) -> tuple[Column, ...]:
    """Return the contract columns of `kind`, or raise ValueError for an unknown kind."""
    try:
        return DATA_CONTRACT[kind]
    except KeyError:
        raise ValueError(
            f"unknown record kind {kind!r}; expected one of {', '.join(DATA_CONTRACT)}"
        ) from None


def required_columns(kind: str) -> list[str]:
    """Names of the required columns of `kind`."""
    return [c.name for c in check_kind(kind) if c.required]


def describe_schema(kind: str) -> str:
    """One-line description of the expected columns, for error messages."""
    cols = check_kind(kind)
    required = ", ".join(c.name for c in cols if c.required)
    optional = ", ".join(c.name for c in cols if not c.required)
    return f"{kind} needs columns: {required} (required); {optional} (optional)"


