"""Validation: a raw chunk becomes normalised good rows plus quarantine rows.

A row is quarantined when it breaks the contract: a value in any column holding bytes that
are not UTF-8 or a control character, missing or placeholder account_id, unparseable or
absurd timestamp, non-integer/negative/absurd counts, label other than fraud/legit. Each
quarantined row appears once, with the first failing check in column order. A bad
*optional* identifier never quarantines its row: the value is nulled (so it never links
accounts) and counted in `identifiers_rejected` under its column. A phone that cannot be
validated is kept as its digits and counted in `identifiers_unvalidated`.

Timestamps are stored as UTC, timezone-naive `datetime64[us]`: a zone-less input is read
as UTC, a zoned one converted to UTC.

Everything is vectorised: identifier columns are normalised once per distinct value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import ContractError
from .normalise_columns import (
    map_unique,
    normalise_country_series,
    normalise_email_series,
    normalise_ip_series,
    normalise_phone_series_checked,
    normalise_text_id_series,
)
from .raw import RawChunk, bad_text, bad_text_reason, shown_text
from .schema import (
    DATA_CONTRACT,
    EARLIEST_TIMESTAMP,
    MAX_REQUESTS_PER_ROW,
    MAX_TOKENS_PER_ROW,
    OUTPUT_COLUMNS,
    QUARANTINE_COLUMNS,
    describe_schema,
)
from .seen_ids import SeenIds, id_hashes

_SIGNUP_TEXT_IDS = ("device_id", "user_agent", "payment_id", "org_id")
_USAGE_TEXT_IDS = ("model", "prompt_fingerprint", "user_agent", "request_id")
_COUNT_LIMITS = {"input_tokens": (0, MAX_TOKENS_PER_ROW),
                 "output_tokens": (0, MAX_TOKENS_PER_ROW),
                 "requests": (1, MAX_REQUESTS_PER_ROW)}  # (default, maximum)
LABEL_VALUES = ("fraud", "legit")


@dataclass
class Validated:
    """Result of validating one chunk."""

    rows: pd.DataFrame
    quarantine: pd.DataFrame
    duplicates: int = 0
    identifiers_rejected: dict[str, int] = field(default_factory=dict)
    # Values kept although they could not be validated (phones in unallocated ranges).
    identifiers_unvalidated: dict[str, int] = field(default_factory=dict)


def check_extra_identifiers(extra_identifiers: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Lower-case declared identifier columns; reject names that clash with built-ins."""
    names = tuple(dict.fromkeys(str(n).strip().lower() for n in extra_identifiers))
    reserved = {c.name for c in DATA_CONTRACT["signups"]} | set(OUTPUT_COLUMNS["signups"])
    for name in names:
        if not name or name in reserved:
            raise ContractError(
                f"extra identifier {name!r} clashes with a built-in signups column; "
                f"declare only extra columns ({describe_schema('signups')})"
            )
    return names


class DuplicateTracker:
    """First occurrence of every account_id seen in one ingest call (signups, labels)."""

    def __init__(self) -> None:
        self._seen = SeenIds()
        self._hashes: list[np.ndarray] = []  # per batch, the first occurrences' row hashes
        self._sources: list[str] = []
        self._rows: list[np.ndarray] = []

    def classify(self, ids: pd.Series, hashes: np.ndarray, source: str,
                 rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Return (identical-duplicate mask, conflicting mask, 'source:row' per conflict)."""
        ids = ids.reset_index(drop=True)
        keys = id_hashes(ids)
        here = np.arange(len(ids))
        pos = self._seen.lookup(ids, keys)  # -1: not seen in an earlier chunk
        earlier = pos >= 0
        first_pos = pd.Series(here).groupby(ids.to_numpy(), sort=False).transform("first") \
            .to_numpy()
        is_first = ~earlier & (first_pos == here)
        ref_hash = hashes[first_pos].copy()
        batch, offset = self._where(pos[earlier])
        ref_hash[earlier] = [self._hashes[b][o] for b, o in zip(batch, offset)]
        identical = ~is_first & (hashes == ref_hash)
        conflict = ~is_first & ~identical
        conflict_pos = pos[conflict]
        batch, offset = self._where(conflict_pos[conflict_pos >= 0])
        stored = iter([f"{self._sources[b]}:{self._rows[b][o]}" for b, o in zip(batch, offset)])
        refs = [next(stored) if p >= 0 else f"{source}:{rows[f]}"
                for p, f in zip(conflict_pos, first_pos[conflict])]
        new = np.flatnonzero(is_first)
        self._seen.add(ids.iloc[new], keys[new])
        self._hashes.append(hashes[new])
        self._sources.append(source)
        self._rows.append(np.asarray(rows)[new])
        return identical, conflict, refs

    def _where(self, positions: np.ndarray) -> tuple[list[int], list[int]]:
        """(batch, offset in it) of each stored position."""
        starts = np.cumsum([0] + [len(h) for h in self._hashes])
        batch = np.searchsorted(starts, positions, side="right") - 1
        return batch.tolist(), (positions - starts[batch]).tolist()


class _Problems:
    """Collects the first failing check of each row."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.bad = np.zeros(len(frame), dtype=bool)
        self.reason = np.full(len(frame), None, dtype=object)
        self.column = np.full(len(frame), None, dtype=object)

    def flag(self, mask: np.ndarray, column: str, reason: str) -> None:
        """Record `reason` for rows in `mask` that have no earlier problem."""
        mask = mask & ~self.bad
        self.reason[mask] = reason
        self.column[mask] = column
        self.bad |= mask

    def flag_rows(self, at: np.ndarray, column: str, reasons: list[str]) -> None:
        """Record a reason of its own for each row at these positions (rows with no earlier problem)."""
        self.reason[at] = np.asarray(reasons, dtype=object).reshape(-1)
        self.column[at] = column
        self.bad[at] = True

    def quarantine(self, source: str, rows: np.ndarray) -> pd.DataFrame:
        """Quarantine rows for every flagged row."""
        idx = np.flatnonzero(self.bad)
        values = np.empty(len(idx), dtype=object)
        columns = self.column[idx]
        for column in set(columns):
            at = columns == column
            raw = self.frame[column].to_numpy(dtype=object)[idx[at]]
            values[at] = [_quarantine_value(v) for v in raw]
        return _quarantine_frame(source, rows[idx], self.column[idx], values, self.reason[idx])


def _quarantine_value(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    return shown_text(str(value))


def _check_text(problems: _Problems, rows: np.ndarray) -> None:
    """Quarantine rows holding a control character or bytes that are not UTF-8, in any column.

    A vectorised scan of each column's bytes finds the columns worth a regular expression;
    only the rows it matches are looked at one by one, to say what is wrong.
    """
    for column in problems.frame.columns:
        values = problems.frame[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            values = values.astype("str")
            at = np.flatnonzero(bad_text(values) & ~problems.bad)
            problems.flag_rows(at, column, [bad_text_reason(column, values.iat[i], int(rows[i])) for i in at])


def _quarantine_frame(source: str, rows, columns, values, reasons) -> pd.DataFrame:
    frame = pd.DataFrame({
        "source": pd.Series([source] * len(rows), dtype="str"),
        "row": pd.Series(np.asarray(rows, dtype=np.int64), dtype="int64"),
        "column": pd.Series(list(columns), dtype="str"),
        "value": pd.Series(list(values), dtype="str"),
        "reason": pd.Series(list(reasons), dtype="str"),
    })
    return frame[list(QUARANTINE_COLUMNS)]


def _blank(values: pd.Series) -> np.ndarray:
    """Missing or whitespace-only, per row."""
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return values.isna().to_numpy()
    text = values.astype("str")
    return (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool)


def _parse_timestamps(values: pd.Series) -> pd.Series:
    """UTC, timezone-naive datetime64[us]; NaT where the value is not ISO-8601."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values.astype("str").str.strip(), format="ISO8601", utc=True,
                                errors="coerce").dt.tz_localize(None)
    return values.astype("datetime64[us]")


def _check_timestamp(problems: _Problems, column: str, now: pd.Timestamp) -> pd.Series:
    raw = problems.frame[column]
    parsed = _parse_timestamps(raw)
    problems.flag(_blank(raw), column, f"{column} is missing")
    problems.flag(parsed.isna().to_numpy(), column, f"{column} is not an ISO-8601 timestamp")
    early, late = pd.Timestamp(EARLIEST_TIMESTAMP), now + pd.Timedelta(days=1)
    out_of_range = ((parsed < early) | (parsed > late)).to_numpy(dtype=bool, na_value=False)
    problems.flag(out_of_range, column,
                  f"{column} is out of range (before {EARLIEST_TIMESTAMP} or more than a day "
                  "in the future)")
    return parsed


def _check_account_id(problems: _Problems, cache: dict | None) -> pd.Series:
    raw = problems.frame["account_id"]
    account_id = normalise_text_id_series(raw, cache)
    missing = account_id.isna().to_numpy()
    problems.flag(missing & ~_rejected(raw, account_id), "account_id", "account_id is missing")
    problems.flag(missing, "account_id", "account_id is a placeholder value")
    return account_id


def _check_count(problems: _Problems, column: str) -> pd.Series:
    default, maximum = _COUNT_LIMITS[column]
    raw = problems.frame[column]
    blank = _blank(raw)
    number = _to_float(raw.astype("str").str.strip())
    whole = np.isfinite(number) & (np.floor(number) == number)
    problems.flag(~blank & ~whole, column, f"{column} is not a whole number")
    problems.flag(~blank & whole & (number < 0), column, f"{column} is negative")
    problems.flag(~blank & whole & (number > maximum), column,
                  f"{column} is absurdly large (more than {maximum:,} in one row)")
    usable = ~blank & whole & (number >= 0) & (number <= maximum)
    counts = np.where(usable, number, default).astype(np.int64)
    return pd.Series(counts, index=raw.index, dtype="Int64")


def _to_float(text: pd.Series) -> np.ndarray:
    """Numbers as float64, NaN where blank or not a number."""
    arrow = pa.array(text, type=pa.string(), from_pandas=True)
    try:
        # Fast path: a column of plain integers (or blanks) casts in one go.
        ints = pc.cast(pc.if_else(pc.equal(arrow, ""), None, arrow), pa.int64())
        return ints.to_numpy(zero_copy_only=False).astype("float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _attributes(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """JSON object text of the non-blank values in `columns` (sorted keys), else null."""
    if not columns:
        return pd.Series(np.nan, index=frame.index, dtype="str")
    text = pd.Series("", index=frame.index, dtype="str")
    for name in sorted(columns):
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = pd.Series([None if pd.isna(v) else v.isoformat() for v in values],
                               index=frame.index, dtype="str")
        key = json.dumps(name) + ":"
        encoded = map_unique(values, lambda v, key=key: f"{key}{json.dumps(v)},")
        text = text + encoded.where(~_blank(values), "")
    # Each piece ends in a comma; the last one is dropped before closing the object.
    return ("{" + text.str[:-1] + "}").where(text != "", np.nan)


def _rejected(raw: pd.Series, normalised: pd.Series) -> np.ndarray:
    """Rows whose value was present but did not survive normalisation."""
    rejected = normalised.isna().to_numpy().copy()
    if rejected.any():
        rejected[rejected] = ~_blank(raw[rejected])
    return rejected


def _with_columns(frame: pd.DataFrame, columns) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        frame = frame.assign(**{c: pd.Series(np.nan, index=frame.index, dtype="str")
                                for c in missing})
    return frame


def validate_chunk(kind: str, chunk: RawChunk, *, extra_identifiers: tuple[str, ...] = (),
                   tracker: DuplicateTracker | None = None, now: pd.Timestamp | None = None,
                   caches: dict[str, dict] | None = None) -> Validated:
    """Split one raw chunk into normalised rows and quarantine rows.

    `tracker` carries duplicate detection and `caches` (column -> {raw: normalised})
    carries normalisation results from chunk to chunk within one ingest call.
    """
    now = pd.Timestamp.now(tz="UTC").tz_localize(None) if now is None else now
    contract = [c.name for c in DATA_CONTRACT[kind]]
    frame = _with_columns(chunk.frame.reset_index(drop=True), contract + list(extra_identifiers))
    problems = _Problems(frame)

    def cache(column: str) -> dict | None:
        return None if caches is None else caches.setdefault(column, {})

    _check_text(problems, chunk.rows)
    checked = _check_required(kind, frame, problems, now, cache)
    good = ~problems.bad
    quarantine = problems.quarantine(chunk.source, chunk.rows)
    frame, rows = frame.loc[good].reset_index(drop=True), chunk.rows[good]
    out = {name: series.loc[good].reset_index(drop=True) for name, series in checked.items()}
    rejected, unvalidated = _normalise_optional(kind, frame, out, contract, extra_identifiers, cache)
    columns = list(OUTPUT_COLUMNS[kind]) + (list(extra_identifiers) if kind == "signups" else [])
    result = pd.DataFrame(out)[columns]
    if not chunk.errors.empty:
        errors = chunk.errors
        quarantine = pd.concat([
            _quarantine_frame(chunk.source, errors["row"], errors["column"], errors["value"],
                              errors["reason"]),
            quarantine,
        ], ignore_index=True)
    duplicates = 0
    if tracker is not None and kind != "usage" and len(result):
        result, quarantine, (rejected, unvalidated), duplicates = _drop_duplicates(
            tracker, chunk.source, rows, result, quarantine, (rejected, unvalidated))
    counts = {col: int(mask.sum()) for col, mask in rejected.items() if mask.any()}
    kept = {col: int(mask.sum()) for col, mask in unvalidated.items() if mask.any()}
    return Validated(result, quarantine, duplicates, counts, kept)


def _check_required(kind: str, frame: pd.DataFrame, problems: _Problems, now: pd.Timestamp,
                    cache) -> dict[str, pd.Series]:
    """The required columns checked (bad rows flagged in ``problems``): account_id plus the kind's own."""
    checked: dict[str, pd.Series] = {"account_id": _check_account_id(problems, cache("account_id"))}
    if kind == "signups":
        checked["created_at"] = _check_timestamp(problems, "created_at", now)
    elif kind == "usage":
        checked["ts"] = _check_timestamp(problems, "ts", now)
        for column in _COUNT_LIMITS:
            checked[column] = _check_count(problems, column)
    else:
        raw_label = frame["label"]
        label = raw_label.astype("str").str.strip().str.lower()
        problems.flag(_blank(raw_label), "label", "label is missing")
        problems.flag(~label.isin(LABEL_VALUES).to_numpy(), "label",
                      "label is not 'fraud' or 'legit'")
        checked["label"] = label
    return checked


def _drop_duplicates(tracker: DuplicateTracker, source, rows, result: pd.DataFrame, quarantine: pd.DataFrame,
                     masks: tuple[dict, ...]):
    """Identical repeats of an account leave as duplicates; conflicting ones go to quarantine."""
    hashes = pd.util.hash_pandas_object(result, index=False).to_numpy()
    identical, conflict, refs = tracker.classify(result["account_id"], hashes, source, rows)
    if conflict.any():
        reasons = [f"duplicate account_id with different values (first occurrence kept: "
                   f"{ref})" for ref in refs]
        quarantine = pd.concat([quarantine, _quarantine_frame(
            source, rows[conflict], ["account_id"] * len(refs),
            result["account_id"][conflict].tolist(), reasons)], ignore_index=True)
    keep = ~identical & ~conflict
    masks = tuple({col: mask[keep] for col, mask in per_column.items()} for per_column in masks)
    return result.loc[keep].reset_index(drop=True), quarantine, masks, int(identical.sum())


def _normalise_optional(kind: str, frame: pd.DataFrame, out: dict[str, pd.Series],
                        contract: list[str], extra_identifiers: tuple[str, ...], cache
                        ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Fill `out` with normalised optional columns; return per-column rejected and unvalidated masks."""
    rejected: dict[str, np.ndarray] = {}
    unvalidated: dict[str, np.ndarray] = {}
    if kind == "signups":
        out["email"], out["email_domain"] = normalise_email_series(frame["email"], cache("email"))
        out["country"] = normalise_country_series(frame["country"], cache("country"))
        out["phone"], validated = normalise_phone_series_checked(frame["phone"], out["country"], cache("phone"))
        unvalidated["phone"] = out["phone"].notna().to_numpy() & ~validated
        out["ip"], out["ip_net"] = normalise_ip_series(frame["ip"], cache("ip"))
        text_ids = _SIGNUP_TEXT_IDS + tuple(extra_identifiers)
        for column in ("email", "country", "phone", "ip"):
            rejected[column] = _rejected(frame[column], out[column])
    elif kind == "usage":
        out["ip"] = normalise_ip_series(frame["ip"], cache("ip"))[0]
        rejected["ip"] = _rejected(frame["ip"], out["ip"])
        text_ids = _USAGE_TEXT_IDS
    else:
        text_ids = ("ring_id",)
    for column in text_ids:
        out[column] = normalise_text_id_series(frame[column], cache(column))
        rejected[column] = _rejected(frame[column], out[column])
    if kind != "usage":
        others = [c for c in frame.columns if c not in contract and c not in extra_identifiers]
        out["attributes"] = _attributes(frame, others)
    return rejected, unvalidated
