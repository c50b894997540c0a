"""Usage files loaded in SQL: the clean rows of a Parquet file are checked and stored by the engine.

Most rows of a usage export are clean: a plain account id, an ISO-8601 time, a dotted-quad
address, plain model, template and client names, whole counts in range. ``validate`` gives
such a row back unchanged (``plain_values`` says for which values that holds), so an engine
that can read the file itself (``Engine.scan_files``) checks and stores those rows with SQL
in its own threads, and Python never holds them. Every other row, the rest, is read from
the file and goes through ``validate_chunk`` as before: each rule keeps its one definition,
and quarantine rows and counts are what they were.

A row is clean when every test below holds. Each errs on the side of "not clean", which
costs time, never a different result:

- account_id: a plain text id (``plain_text_ids``);
- ts: ISO-8601 text (date, ``T`` or a space, time to the microsecond, ``Z`` or an offset
  of at most 14 hours, or no zone), or a timestamp column; within the contract's range;
- ip: missing, a plain v4 address (``plain_ipv4``) or a v6 address in canonical text that
  names a client (``plain_values.IPV6_SHAPE``); model, prompt_fingerprint,
  user_agent, request_id: missing or a plain text id;
- counts: missing, or a whole number from 0 to the contract's maximum;
- every other text column: no control character or undecodable byte (``raw.bad_text``);
- request_id: missing, or none of the rest rows holds it, compared with everything but
  printable ASCII removed; so a repeated id keeps the copy that comes first in the file,
  whichever path each copy takes.

A file qualifies when it is uncompressed Parquet whose columns are text, integers,
floating point, booleans, dates or timestamps (the contract's text columns text, its counts
numbers or text), and when the engine can read it; any other file is read row by row as
before. The SQL is DuckDB's; the file's path travels as a parameter and its column
names as quoted identifiers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .normalise import PLACEHOLDER_VALUES
from .plain_values import (
    IPV4_PLAIN,
    IPV4_SPECIAL,
    IPV6_NOT_CANONICAL,
    IPV6_SHAPE,
    IPV6_SPECIAL,
    ONE_DIGIT_REPEATED,
    PLAIN_TEXT,
)
from .raw import CONTROL_CHARACTERS, INVALID, RawChunk, SourceFile, errors_frame
from .schema import (
    EARLIEST_TIMESTAMP,
    MAX_REQUESTS_PER_ROW,
    MAX_TOKENS_PER_ROW,
    OUTPUT_COLUMNS,
)
from .sources import parquet_file, text_frame

# Runs a query over input files and streams its result: (SQL, parameters, rows per batch,
# Arrow tables the query reads by name).
Scan = Callable[[str, list, int, dict], Iterator[pa.RecordBatch]]

COUNTS = {"input_tokens": (0, MAX_TOKENS_PER_ROW), "output_tokens": (0, MAX_TOKENS_PER_ROW),
          "requests": (1, MAX_REQUESTS_PER_ROW)}  # (default, maximum), as ``validate`` has them
_TEXT_IDS = ("model", "prompt_fingerprint", "user_agent", "request_id")
_ROW = "file_row_number"
_BASE, _VALUE = "ringwatch_clean", "ringwatch_value"
# A text column with at most this share of distinct values in the file's first row group is
# tested once per distinct value (a model name, a client string), not once per row.
FEW_VALUES = 0.01
REST_ROWS = "rest_rows"  # the name ``clean_sql`` reads the rest rows' numbers under

_ISO = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
        r"(\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?$")
_BAD = "[" + "".join(f"\\x{{{code:x}}}" for code in [*CONTROL_CHARACTERS, ord(INVALID)]) + "]"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_PLACEHOLDER_LIST = "[" + ", ".join(_literal(v) for v in sorted(PLACEHOLDER_VALUES)) + "]"


def _plain_text(col: str) -> str:
    return f"(regexp_matches({col}, {_literal(PLAIN_TEXT)}) AND NOT list_contains({_PLACEHOLDER_LIST}, lower({col})))"


def _plain_ip(col: str) -> str:
    """A v4 address in dotted quads, or a v6 one in canonical text (``plain_values``), that ``normalise_ip`` keeps."""
    v4 = (f"regexp_matches({col}, {_literal(IPV4_PLAIN)}) AND NOT regexp_matches({col}, {_literal(IPV4_SPECIAL)})"
          f" AND NOT regexp_matches(replace({col}, '.', ''), {_literal(ONE_DIGIT_REPEATED)})")
    colons = f"length({col}) - length(replace({col}, ':', ''))"
    v6 = (f"regexp_matches({col}, {_literal(IPV6_SHAPE)}) AND NOT regexp_matches({col}, {_literal(IPV6_NOT_CANONICAL)})"
          f" AND NOT regexp_matches({col}, {_literal(IPV6_SPECIAL)}) AND (NOT contains({col}, '::') OR {colons} <= 6)"
          f" AND NOT regexp_matches(replace({col}, ':', ''), {_literal(ONE_DIGIT_REPEATED)})")
    return f"(CASE WHEN contains({col}, ':') THEN {v6} ELSE {v4} END)"


def _kind(arrow_type: pa.DataType) -> str | None:
    """'text', 'integer', 'float', 'timestamp' or 'other' (a type read as before), or None (not here)."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_float32(arrow_type) or pa.types.is_float64(arrow_type):
        return "float"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp" if arrow_type.unit != "ns" else None
    if pa.types.is_boolean(arrow_type) or pa.types.is_date32(arrow_type):
        return "other"
    return None


@dataclass
class UsagePlan:
    """One usage file split into rest rows (validated in Python) and clean rows (stored in SQL).

    Each query's one parameter is the file's path (``params``). ``rest_sql`` gives the rest
    rows in file order: the file's columns under their normalised names, then
    ``file_row_number`` (0-based). ``clean_sql`` gives the other rows' values as
    ``validate`` would give them, in the order of ``OUTPUT_COLUMNS['usage']``, then
    ``file_row_number``; it reads the rest rows' numbers from a table registered as
    ``REST_ROWS``; ``rest`` (that table) is known once ``rest_chunks`` has run.
    """

    source: SourceFile
    rows: int
    rest_sql: str
    clean_sql: str
    spans_sql: str
    request_ids: bool  # whether the file has a request_id column (repeated ids are then dropped)
    rest: pa.Table | None = field(default=None, repr=False)

    @property
    def params(self) -> list:
        return [str(self.source.path)]

    @property
    def clean_rows(self) -> int:
        return self.rows - len(self.rest)


def usage_plan(source: SourceFile, now: pd.Timestamp) -> UsagePlan | None:
    """The plan for ``source``, or None when it does not qualify (see the module's docstring)."""
    if source.format != "parquet" or source.compressed or {_ROW, _BASE, _VALUE} & set(source.columns):
        return None
    with parquet_file(source.path, False) as pf:
        schema, rows = pf.schema_arrow, pf.metadata.num_rows
        kinds = {name: _kind(t) for name, t in zip(source.columns, schema.types)}
        text_ids = ("account_id", "ip", *_TEXT_IDS)
        if any(k is None for k in kinds.values()) or any(kinds.get(c, "text") != "text" for c in text_ids) \
                or any(kinds.get(c, "integer") not in ("integer", "float", "text") for c in COUNTS) \
                or kinds.get("ts") not in ("text", "timestamp"):
            return None
        few = _few_values(pf, [(c, n) for c, n in zip(source.columns, schema.names) if kinds[c] == "text"])
    original = dict(zip(source.columns, (_ident(n) for n in schema.names)))
    late = (now + pd.Timedelta(days=1)).isoformat(sep=" ")

    distinct: list[str] = []  # per column of few values: each distinct value and its verdict

    def tested(column: str, test, required: bool = False) -> str:
        # A column of few values is tested once per distinct value, not once per row. The test
        # reads first(), an aggregate, so the optimiser cannot run it on the rows before grouping.
        col, body = original[column], test(original[column])
        if column in few:
            name = f"{_VALUE}_{len(distinct)}"
            distinct.append(f"{name} AS MATERIALIZED (SELECT {col} AS {_VALUE}, {test(f'first({col})')} AS ok"
                            f" FROM read_parquet($1) GROUP BY {col})")
            body = f"{col} IN (SELECT {_VALUE} FROM {name} WHERE ok)"
        return f"{col} IS NOT NULL AND {body}" if required else f"{col} IS NULL OR {body}"

    def in_range(col: str) -> str:
        ts, iso = _timestamp(col, kinds["ts"])
        return f"{iso} AND {ts} BETWEEN TIMESTAMP {_literal(EARLIEST_TIMESTAMP)} AND TIMESTAMP {_literal(late)}"

    values = {"account_id": original["account_id"], "ts": _timestamp(original["ts"], kinds["ts"])[0]}
    tests = [tested("account_id", _plain_text, required=True), tested("ts", in_range, required=True)]
    for column in ("ip", *_TEXT_IDS):
        if column in original:
            tests.append(tested(column, _plain_ip if column == "ip" else _plain_text))
        values[column] = original.get(column, "CAST(NULL AS VARCHAR)")
    for column, (default, maximum) in COUNTS.items():
        number = _count(original.get(column), kinds.get(column))
        if column in original:
            whole = f" AND isfinite({number}) AND {number} = floor({number})" if kinds[column] == "float" else ""
            tests.append(f"{original[column]} IS NULL OR ({number} BETWEEN 0 AND {maximum}{whole})")
        values[column] = f"coalesce(CAST({number} AS BIGINT), {default})"
    for column, kind in kinds.items():
        if kind == "text" and column not in values:
            tests.append(tested(column, lambda col: f"NOT regexp_matches({col}, {_literal(_BAD)})"))
    return _plan(source, rows, original, values, " AND ".join(f"coalesce(({t}), false)" for t in tests), distinct)


def _few_values(pf, columns: list[tuple[str, str]]) -> set[str]:
    """The text columns (normalised, original name) whose first row group holds few distinct values."""
    if pf.metadata.num_row_groups == 0 or not columns:
        return set()
    group = pf.read_row_group(0, columns=[name for _, name in columns])
    return {column for column, values in zip((c for c, _ in columns), group.columns)
            if pc.count_distinct(values).as_py() <= FEW_VALUES * len(values)}


def _plan(source: SourceFile, rows: int, original: dict, values: dict, base: str, ctes: list[str]) -> UsagePlan:
    shown = ", ".join(f"{original[c]} AS {_ident(c)}" for c in source.columns)
    scan = "read_parquet($1, file_row_number = true)"
    rid = original.get("request_id")
    if rid:
        loose = f"regexp_replace({rid}, '[^!-~]', '', 'g')"
        ctes = [*ctes, f"src AS MATERIALIZED (SELECT *, {base} AS {_BASE} FROM {scan})"]
        rest = (f"SELECT {shown}, {_ROW} FROM src WHERE NOT {_BASE} OR ({rid} IS NOT NULL AND {loose} IN"
                f" (SELECT {loose} FROM src WHERE NOT {_BASE} AND {rid} IS NOT NULL))")
    else:
        rest = f"SELECT {shown}, {_ROW} FROM {scan} WHERE NOT ({base})"
    if ctes:
        rest = f"WITH {', '.join(ctes)} {rest}"
    clean = f"{scan} t ANTI JOIN {REST_ROWS} r ON t.{_ROW} = r.{_ROW}"
    out = ", ".join(f"{values[c]} AS {_ident(c)}" for c in OUTPUT_COLUMNS["usage"])
    return UsagePlan(
        source, rows,
        rest_sql=f"{rest} ORDER BY {_ROW}",
        clean_sql=f"SELECT {out}, t.{_ROW} AS {_ROW} FROM {clean}",
        spans_sql=(f"SELECT {original['account_id']} AS account_id, min({values['ts']}) AS first,"
                   f" max({values['ts']}) AS last FROM {clean}" + (f" WHERE {rid} IS NULL" if rid else "") + " GROUP BY 1"),
        request_ids=rid is not None,
    )


def _timestamp(col: str, kind: str) -> tuple[str, str]:
    """(the value ``validate`` gives a ts: UTC, zone-less, to the microsecond; the test that the
    text is one of the ISO-8601 forms that value is right for). String functions, not patterns,
    read the zone once the form is known: ``Z``, an offset ``+hh:mm`` / ``-hh:mm``, or none."""
    if kind == "timestamp":
        return f"make_timestamp(epoch_us({col}))", "true"
    offset = f"(substr({col}, -6, 1) IN ('+', '-') AND substr({col}, -3, 1) = ':')"
    zone = f"CASE WHEN right({col}, 1) = 'Z' THEN 1 WHEN {offset} THEN 6 ELSE 0 END"
    local = f"TRY_CAST(left({col}, length({col}) - ({zone})) AS TIMESTAMP)"
    sign = f"CASE WHEN substr({col}, -6, 1) = '-' THEN -1 ELSE 1 END"
    minutes = f"TRY_CAST(substr({col}, -5, 2) AS INTEGER) * 60 + TRY_CAST(substr({col}, -2, 2) AS INTEGER)"
    return (f"({local} - to_minutes(CASE WHEN {offset} THEN {sign} * ({minutes}) ELSE 0 END))",
            f"regexp_matches({col}, {_literal(_ISO)})")


def _count(col: str | None, kind: str | None) -> str:
    if col is None:
        return "CAST(NULL AS BIGINT)"
    if kind == "text":
        return f"(CASE WHEN regexp_matches({col}, '^[0-9]{{1,15}}$') THEN TRY_CAST({col} AS BIGINT) END)"
    return col


def rest_chunks(plan: UsagePlan, scan: Scan, chunk_rows: int) -> Iterator[RawChunk]:
    """The file's rest rows as raw chunks, read as ``sources`` reads a Parquet file; then notes
    ``plan.rest``. Raises ContractError when the engine cannot read the file,
    before the first chunk (the rest rows are sorted, so the whole file is read first)."""
    numbers = []
    for batch in scan(plan.rest_sql, plan.params, chunk_rows, {}):
        number = batch.column(_ROW).to_numpy().astype(np.int64)
        frame = text_frame(batch.columns[:-1], plan.source.columns)
        numbers.append(number)
        yield RawChunk(plan.source.name, frame, number + 1, errors_frame([]))
    plan.rest = pa.table({_ROW: pa.array(np.concatenate(numbers) if numbers else np.empty(0, np.int64))})


def clean_spans(plan: UsagePlan, scan: Scan) -> pa.Table | None:
    """account_id, first, last of the clean rows without a request_id (after ``rest_chunks``)."""
    spans = list(scan(plan.spans_sql, plan.params, 1 << 20, {REST_ROWS: plan.rest}))
    return pa.Table.from_batches(spans).filter(pc.is_valid(pc.field("account_id"))) if spans else None
