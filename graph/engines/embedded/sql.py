"""The embedded engine's SQL: the store's schema and every statement the engine runs.

Values always travel as parameters or registered frames, never formatted into the text;
table and column names come only from the fixed lists of ``columns``. The one query not
written here, a usage file's clean rows (``ingest.usage_sql``), follows the same rules,
the file's own column names quoted.
"""

from __future__ import annotations

from ..columns import TABLES

# The store's tables take their columns from the seam's contract (``columns.TABLES``, itself
# from the data contract), so a column added there needs no change here. Columns not
# listed are text.
COLUMN_TYPES = {"created_at": "TIMESTAMP", "ts": "TIMESTAMP", "input_tokens": "BIGINT", "output_tokens": "BIGINT",
                "requests": "BIGINT", "row": "BIGINT", "rows": "BIGINT", "seq": "BIGINT"}
# Accounts have no key: they are unique by the way they are loaded (``NEW_ACCOUNT_IDS``: ids
# the store lacks, each once), and a key cost half the time of storing them. A store made
# before keeps its key.
PRIMARY_KEYS = {"labels": "account_id", "ledger": "ledger, seq", "loaded_files": "kind, digest"}
RECORDED_AT = {"quarantine": "recorded_at", "loaded_files": "loaded_at"}


def _create(table: str) -> str:
    columns = [f'"{c}" {COLUMN_TYPES.get(c, "VARCHAR")}' for c in TABLES[table]]
    if table in RECORDED_AT:
        columns.append(f"{RECORDED_AT[table]} TIMESTAMP DEFAULT current_timestamp")
    if table in PRIMARY_KEYS:
        columns.append(f"PRIMARY KEY ({PRIMARY_KEYS[table]})")
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)});"


# Columns the data contract added after stores were first made: an older store gains them when opened.
ADDED_COLUMNS = {"usage": ("request_id",)}
SCHEMA = "\n".join([*(_create(table) for table in TABLES),
                    *(f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "{column}" VARCHAR;'
                      for table, columns in ADDED_COLUMNS.items() for column in columns)])

# A usage file's clean rows (``ingest.usage_sql``: a query the ingest layer builds over the file,
# its column names quoted, its path a parameter), stored straight from the file. With request
# ids, a row whose id the store holds, or an earlier row of the file holds, is left out.
INSERT_CLEAN_USAGE = "INSERT INTO usage ({columns}) SELECT {columns} FROM ({clean}) c{fresh}"
FRESH_REQUEST_IDS = (" WHERE c.request_id IS NULL OR NOT EXISTS (SELECT 1 FROM usage u WHERE u.request_id = c.request_id)"
                     " QUALIFY c.request_id IS NULL OR row_number() OVER (PARTITION BY c.request_id"
                     " ORDER BY c.file_row_number) = 1")

# Every account-identifier link the graph uses: signup identifiers plus two kinds derived
# from usage (request IPs and prompt fingerprints). Accounts are numbered by their
# position in account-id order and values by a number of their own (``vid``), so the big
# pair tables hold integers, not strings; each value's number of accounts is counted once,
# for every question that needs it. Usage repeats an address or a template on many rows:
# each usage kind is made distinct per account before the join, on two text columns, not
# after it on three. The store holds each signup identifier of an account once
# (``INSERT_NEW_IDENTIFIERS``: distinct, for accounts it lacks), so those are not made
# distinct again, and a value's rows are its accounts.
#
# Only values held by two accounts or more can link a pair, and only they are kept: in
# ``value_degree`` (with their number) and ``links``. Most values are one account's own (95%
# of them in the demo: e-mail addresses, devices, paraphrased prompts), and keeping them
# held gigabytes of text at ten million accounts, spilled to disk by every later step. What
# is asked of them is answered without them: their number per kind (``own_values``, the
# rows of a kind less those of its shared values), and a value the table lacks is one
# account's if anyone holds it (``VALUE_DEGREES``, ``DEGREES_ALL``; a clustered account's own
# identifier, ``slice_degrees``, is held by that account).
HELD_ROWS = """
    SELECT account_id, kind, value FROM identifiers
    UNION ALL SELECT DISTINCT account_id, 'request_ip', ip FROM usage WHERE ip IS NOT NULL
    UNION ALL SELECT DISTINCT account_id, 'prompt', prompt_fingerprint FROM usage WHERE prompt_fingerprint IS NOT NULL
"""
LINKS = f"""
CREATE OR REPLACE TEMP TABLE account_index AS
SELECT account_id, CAST(row_number() OVER (ORDER BY account_id) - 1 AS INTEGER) AS idx FROM accounts;
CREATE OR REPLACE TEMP TABLE held AS
SELECT x.idx, l.kind, l.value FROM ({HELD_ROWS}) l JOIN account_index x USING (account_id);
CREATE OR REPLACE TEMP TABLE value_degree AS
SELECT kind, value, n, CAST(row_number() OVER () AS INTEGER) AS vid
FROM (SELECT kind, value, count(*) AS n FROM held GROUP BY kind, value HAVING count(*) >= 2);
CREATE OR REPLACE TEMP TABLE own_values AS
SELECT h.kind, h.n - coalesce(d.n, 0) AS n FROM (SELECT kind, count(*) AS n FROM held GROUP BY kind) h
LEFT JOIN (SELECT kind, sum(n) AS n FROM value_degree GROUP BY kind) d USING (kind);
CREATE OR REPLACE TEMP TABLE links AS
SELECT h.idx, d.vid FROM held h JOIN value_degree d USING (kind, value);
DROP TABLE held;
"""
DROP_LINKS = ("DROP TABLE IF EXISTS links; DROP TABLE IF EXISTS value_degree; DROP TABLE IF EXISTS own_values;"
              " DROP TABLE IF EXISTS account_index;")

DEGREES = """
SELECT kind, value, n AS accounts FROM value_degree WHERE n >= ? ORDER BY accounts DESC, kind, value
"""
# Every value with its number of accounts, one account's own values too (which ``value_degree``
# does not keep): counted again from the store, for the rare question that wants them.
SIGNED_UP_HELD = f"SELECT l.kind, l.value FROM ({HELD_ROWS}) l SEMI JOIN accounts a USING (account_id)"
DEGREES_ALL = f"""
SELECT kind, value, count(*) AS accounts FROM ({SIGNED_UP_HELD})
GROUP BY kind, value HAVING count(*) >= ? ORDER BY accounts DESC, kind, value
"""

DEGREE_HISTOGRAM = """
SELECT kind, accounts, "values" FROM (
    SELECT kind, n AS accounts, count(*) AS "values" FROM value_degree GROUP BY kind, n
    UNION ALL SELECT kind, 1, n FROM own_values WHERE n > 0
) ORDER BY kind, accounts
"""

# A wanted value the table lacks is held by one account, or by none.
VALUE_DEGREES = f"""
WITH held AS (
    SELECT DISTINCT h.kind, h.value FROM ({SIGNED_UP_HELD}) h SEMI JOIN wanted_values w ON w.kind = h.kind AND w.value = h.value
)
SELECT w.kind, w.value, coalesce(d.n, CASE WHEN h.value IS NULL THEN 0 ELSE 1 END) AS accounts
FROM wanted_values w LEFT JOIN value_degree d ON d.kind = w.kind AND d.value = w.value
LEFT JOIN held h ON h.kind = w.kind AND h.value = w.value
"""

# Values shared by at most `pair_cap` accounts link every pair of their accounts; values
# shared by more (up to the hub cap) link each account to the value's `anchors` first
# accounts only, which keeps connectivity and per-pair evidence for large groups without
# enumerating n^2 pairs. Evidence is summed per family in the engine: each value adds
# weight(kind) * idf, idf = max(0, ln(N/n) / ln(N/2)); a family whose score reaches its
# `alone` score links the pair on its own; a family whose uncapped score reaches
# `keep_score` returns the pair for the caller to look at further. A pair travels as one
# BIGINT (a << 32 | b), a value as its number and a family as its rank, so the joins and
# the two aggregations over tens of millions of rows hash integers, not text; the pair test
# is a GROUP BY, not a window over (a, b), whose millions of one-row partitions were the
# slowest step of a detection run. A family's score, and a pair's capped total, are summed
# as 128-bit integers in units of 2^-80 (``PAIR_SCORE_GRAIN``), which hold every score above
# 1e-8 exactly: the sum is the exact sum, the same in any order, where a parallel float sum
# could land an ulp apart from run to run and, through community detection's ties, move
# accounts between clusters. Families travel as their number `f` (their rank in name order,
# given with the kinds) and come back as categories; a family has one `alone` bar
# (``detection.kinds.kind_table`` gives each family one), which joins the pair test by family
# number rather than travelling on every pair row.
#
# The pairs are asked in parts, by ranges of the lower account number `a` (every row of a
# pair is in one part): `pair_values` holds each value's accounts with their rank in it once,
# `PAIR_ROWS` counts exactly the joined rows each range of accounts will make (a value's
# account makes one with every later account of a small value, and an anchor with every
# later account of a large one), and `PAIRS` groups one range's rows. Each part's grouping
# then fits in memory at any store size, where one grouping of every pair spills to disk and
# grows faster than the pairs. Rows come out in (a, b, family) order. A part's anchor pairs
# are asked with both accounts at or past its start, not their least: anchors are each large value's first
# accounts, so a later part reads few of them (a seventh less time in the parts at 3,000,000 accounts).
PAIR_SCORE_GRAIN = float(2**80)
PAIR_VALUES = """
CREATE OR REPLACE TEMP TABLE pair_values AS
SELECT l.idx, l.vid, d.n, greatest(ln($total / d.n) / ln($total / 2), 0) * kw.weight AS score,
       CAST(kw.f AS INTEGER) AS f, row_number() OVER (PARTITION BY l.vid ORDER BY l.idx) AS rk
FROM links l JOIN value_degree d USING (vid) JOIN kind_weights kw USING (kind)
WHERE d.n <= $hub_cap
"""
PAIR_ROWS = """
SELECT idx // $width AS part, sum(CASE WHEN n <= $pair_cap OR rk <= $anchors THEN n - rk ELSE 0 END) AS pairs
FROM pair_values GROUP BY 1 ORDER BY 1
"""
PAIRS = """
WITH small AS (
    SELECT (CAST(x.idx AS BIGINT) << 32) | y.idx AS ab, x.f, x.score
    FROM pair_values x JOIN pair_values y ON x.vid = y.vid AND x.idx < y.idx
    WHERE x.n <= $pair_cap AND x.idx >= $lo AND x.idx < $hi
), big AS (
    SELECT (CAST(least(x.idx, y.idx) AS BIGINT) << 32) | greatest(x.idx, y.idx) AS ab, x.f, x.score
    FROM pair_values x JOIN pair_values y ON x.vid = y.vid AND x.idx <> y.idx
    WHERE x.n > $pair_cap AND y.rk <= $anchors AND NOT (x.rk <= $anchors AND x.idx < y.idx)
      AND x.idx >= $lo AND y.idx >= $lo AND least(x.idx, y.idx) < $hi
), fam AS (
    SELECT ab, f, CAST(sum(CAST(score * $grain AS HUGEINT)) AS DOUBLE) / $grain AS score, count(*) AS shared
    FROM (SELECT * FROM small UNION ALL SELECT * FROM big) GROUP BY ab, f
), bars AS (SELECT CAST(f AS INTEGER) AS f, min(alone) AS alone FROM kind_weights GROUP BY 1
), kept AS (
    SELECT ab FROM fam JOIN bars USING (f) GROUP BY ab
    HAVING sum(CAST(least(score, 1.0) * $grain AS HUGEINT)) >= CAST($min_total * $grain AS HUGEINT)
        OR max(CASE WHEN score >= alone THEN 1 ELSE 0 END) = 1
        OR max(score) >= $keep_score
    UNION SELECT (CAST(a AS BIGINT) << 32) | b FROM keep_pairs WHERE a >= $lo AND a < $hi
)
SELECT CAST(p.ab >> 32 AS INTEGER) AS a, CAST(p.ab & 4294967295 AS INTEGER) AS b, p.f, p.score, p.shared
FROM fam p SEMI JOIN kept k ON k.ab = p.ab
ORDER BY p.ab, p.f
"""

# Weighted Jaccard, sum(min) / sum(max), with sum(max) = total_a + total_b - sum(min).
# Co-activity similarity, in two parts: the activity rows (account number, template, time
# bucket, requests) of templates used by at most $max_degree accounts, then the weighted
# Jaccard of every pair sharing a (template, bucket), the cutoffs and top-k. The second part
# reads only a relation ``act`` (idx, fp, bucket, w), so the Neo4j engine runs the very same
# SQL on the activity rows it reads from its server when no Graph Data Science is there.
# Here a template is its value number, and its accounts are counted already (``LINKS``); a
# template one account alone used is not in the value table: its number is NULL, so it pairs
# with nothing, and its rows are told apart by its text.
SIMILARITY_ACTIVITY = """
WITH fp AS (SELECT value AS prompt_fingerprint, vid, n FROM value_degree WHERE kind = 'prompt')
SELECT x.idx, fp.vid AS fp, time_bucket(to_minutes(CAST($bucket AS BIGINT)), u.ts) AS bucket,
       sum(u.requests)::DOUBLE AS w
FROM usage u LEFT JOIN fp ON u.prompt_fingerprint = fp.prompt_fingerprint
JOIN account_index x ON x.account_id = u.account_id
WHERE u.prompt_fingerprint IS NOT NULL AND coalesce(fp.n, 1) <= $max_degree
GROUP BY x.idx, u.prompt_fingerprint, fp.vid, bucket
"""

SIMILARITY_PAIRS = """
WITH deg AS (
    SELECT idx, sum(w) AS total FROM act GROUP BY 1 HAVING count(*) >= $degree_cutoff
), act2 AS (
    SELECT act.* FROM act SEMI JOIN deg ON act.idx = deg.idx
), pair AS (
    SELECT x.idx AS a, y.idx AS b, sum(least(x.w, y.w)) AS smin, count(*) AS common
    FROM act2 x JOIN act2 y ON x.fp = y.fp AND x.bucket = y.bucket AND x.idx < y.idx
    GROUP BY ALL
), sim AS (
    SELECT a, b, smin / (da.total + db.total - smin) AS similarity, common
    FROM pair JOIN deg da ON da.idx = a JOIN deg db ON db.idx = b
), kept AS (SELECT * FROM sim WHERE similarity >= $cutoff),
ranked AS (
    SELECT a, b, row_number() OVER (PARTITION BY a ORDER BY similarity DESC, b) AS ra,
           row_number() OVER (PARTITION BY b ORDER BY similarity DESC, a) AS rb
    FROM kept
)
SELECT k.a, k.b, k.similarity, k.common FROM kept k JOIN ranked r USING (a, b)
WHERE r.ra <= $top_k OR r.rb <= $top_k ORDER BY k.a, k.b
"""

SIMILARITY = f"WITH act AS ({SIMILARITY_ACTIVITY})\n" + SIMILARITY_PAIRS.replace("WITH deg AS", ", deg AS", 1)


USAGE_SUMMARY = """
SELECT account_id, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, min(ts) AS first_ts, max(ts) AS last_ts,
       count(DISTINCT CAST(ts AS DATE)) AS active_days,
       count(DISTINCT prompt_fingerprint) AS prompts
FROM usage GROUP BY account_id
"""

# Each template's accounts counted as the groups of (template, account) under it: the same
# numbers as count(DISTINCT account_id), which kept a set per template and took 57.5 s instead
# of 39.8 s at ten million accounts.
PROMPT_SUMMARY = """
SELECT prompt_fingerprint, count(*) AS accounts, sum(requests) AS requests
FROM (SELECT prompt_fingerprint, account_id, sum(requests) AS requests FROM usage
      WHERE prompt_fingerprint IS NOT NULL GROUP BY 1, 2)
GROUP BY 1
"""

MEMBER_USAGE = """
SELECT u.account_id, time_bucket(to_minutes(CAST(? AS BIGINT)), u.ts) AS bucket,
       u.prompt_fingerprint, sum(u.requests) AS requests,
       sum(u.input_tokens) AS input_tokens, sum(u.output_tokens) AS output_tokens
FROM usage u SEMI JOIN wanted w ON u.account_id = w.account_id
GROUP BY ALL
"""

# Detection's reads of its clustered accounts, a slice at a time (``Engine.member_slices``):
# every slice's rows are read in one pass over each table into tables ordered by slice, so a
# slice's rows are a few row groups found by their min/max, not a scan of the store per slice;
# DuckDB spills them to disk past its memory limit. ``member_slice`` (account_id, s, pos,
# bucket_minutes): pos is the account's place in the slices as given, bucket_minutes the usage
# buckets' width. Usage sums are kept as BIGINT (a HUGEINT sum takes twice the room) and read
# as DOUBLE, as ``MEMBER_USAGE``'s sums arrive in pandas.
#
# What the slices read of accounts, identifiers and usage is kept after detection, ordered by
# pos (``KEPT``: stored tables, not temp ones, renamed when every slice was read), so the
# pages' questions about ring members read a few row groups found by their pos
# (``KEPT_ROWS``, ``MEMBER_USAGE_KEPT``) instead of scanning every row of the store. A kept
# table stands for the rows it was read from: any write to its table drops it
# (``DROP_KEPT``), and a question about an account it does not hold, or usage in buckets its
# width does not divide, is asked of the store itself. A bucket whose width is a multiple of
# the kept width is a union of whole kept buckets (both start at DuckDB's origin).
STAGE_MEMBERS = {
    "slice_accounts": "SELECT m.s, m.pos, a.* FROM accounts a JOIN member_slice m USING (account_id) ORDER BY m.pos",
    "slice_identifiers": "SELECT m.s, m.pos, i.account_id, i.kind, i.value FROM identifiers i"
                         " JOIN member_slice m USING (account_id) ORDER BY m.pos",
    "slice_degrees": "SELECT w.s, w.kind, w.value, CASE WHEN w.value IS NULL THEN 0 ELSE coalesce(d.n, 1) END AS accounts"
                     " FROM (SELECT DISTINCT s, kind, value FROM slice_identifiers) w"
                     " LEFT JOIN value_degree d ON d.kind = w.kind AND d.value = w.value ORDER BY w.s",
    "slice_usage": "SELECT m.s, m.pos, u.account_id, time_bucket(to_minutes(CAST($bucket AS BIGINT)), u.ts) AS bucket,"
                   " u.prompt_fingerprint, CAST(sum(u.requests) AS BIGINT) AS requests,"
                   " CAST(sum(u.input_tokens) AS BIGINT) AS input_tokens,"
                   " CAST(sum(u.output_tokens) AS BIGINT) AS output_tokens"
                   " FROM usage u JOIN member_slice m USING (account_id) GROUP BY ALL ORDER BY m.pos",
}
SLICE_READS = (
    "SELECT * EXCLUDE (s, pos) FROM slice_accounts WHERE s = ? ORDER BY account_id",
    "SELECT * EXCLUDE (s, pos) FROM slice_identifiers WHERE s = ? ORDER BY account_id, kind, value",
    "SELECT * EXCLUDE (s) FROM slice_degrees WHERE s = ?",
    ("SELECT account_id, bucket, prompt_fingerprint, CAST(requests AS DOUBLE) AS requests,"
     " CAST(input_tokens AS DOUBLE) AS input_tokens, CAST(output_tokens AS DOUBLE) AS output_tokens"
     " FROM slice_usage WHERE s = ?"),
)
DROP_STAGED = "".join(f"DROP TABLE IF EXISTS {name};" for name in ["member_slice", *STAGE_MEMBERS])
# Staged table -> the kept table it becomes; and the store's tables that have a kept copy.
KEPT = {"member_slice": "kept_members", "slice_accounts": "kept_accounts", "slice_identifiers": "kept_identifiers",
        "slice_usage": "kept_usage"}
KEPT_COPIES = {table: KEPT[f"slice_{table}"] for table in ("accounts", "identifiers", "usage")}
KEPT_AS_STORED = ("accounts", "identifiers")  # kept row for row; usage is kept summed per bucket
DROP_KEPT = "".join(f"DROP TABLE IF EXISTS {name};" for name in KEPT.values())
KEEP_STAGED = DROP_KEPT + "".join(f"ALTER TABLE {staged} RENAME TO {kept};" for staged, kept in KEPT.items())
KEPT_COVERS = ("SELECT count(*), min(bucket_minutes) FROM kept_members m"
               " SEMI JOIN {wanted} w ON m.account_id = w.account_id")
KEPT_POSITIONS = "(SELECT m.pos FROM kept_members m SEMI JOIN {wanted} w ON m.account_id = w.account_id)"
KEPT_ROWS = "SELECT {columns} FROM {kept} t JOIN " + KEPT_POSITIONS + " p ON t.pos = p.pos"
MEMBER_USAGE_KEPT = """
SELECT t.account_id, time_bucket(to_minutes(CAST(? AS BIGINT)), t.bucket) AS bucket,
       t.prompt_fingerprint, sum(t.requests) AS requests,
       sum(t.input_tokens) AS input_tokens, sum(t.output_tokens) AS output_tokens
FROM kept_usage t JOIN """ + KEPT_POSITIONS.format(wanted="wanted") + """ p ON t.pos = p.pos
GROUP BY ALL
"""

USAGE_BY_GROUP = """
SELECT g.grp AS "group", time_bucket(to_minutes(CAST(? AS BIGINT)), u.ts, CAST(? AS TIMESTAMP)) AS bucket,
       CAST(coalesce(sum(u.requests), 0) AS BIGINT) AS requests,
       CAST(coalesce(sum(u.output_tokens), 0) AS BIGINT) AS output_tokens, max(u.ts) AS last_ts
FROM usage u LEFT JOIN grouping g ON u.account_id = g.account_id
GROUP BY ALL
ORDER BY "group" NULLS LAST, bucket
"""


VALUE_ACCOUNTS = """
SELECT i.account_id, i.kind, i.value, count(*) OVER (PARTITION BY i.kind, i.value) AS holders
FROM identifiers i JOIN (SELECT DISTINCT kind, value FROM wanted_values) w USING (kind, value)
QUALIFY row_number() OVER (PARTITION BY i.kind, i.value ORDER BY i.account_id) <= ?
ORDER BY i.kind, i.value, i.account_id LIMIT ?
"""

LEDGER_NEXT = "SELECT coalesce(max(seq), -1) + 1 FROM ledger WHERE ledger = ?"

TABLE_EXISTS = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
TABLE_COLUMNS = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?"

# Signups keyed by account id: the first stored version wins; a later copy, in this batch
# or in the store, is a duplicate and brings no identifiers.
NEW_ACCOUNT_IDS = """
CREATE OR REPLACE TEMP TABLE new_ids AS
SELECT account_id, count(*) AS copies FROM incoming ANTI JOIN accounts USING (account_id) GROUP BY account_id
"""
NEW_ID_COUNTS = "SELECT count(*), coalesce(max(copies), 0) FROM new_ids"
INSERT_NEW_ACCOUNTS = "INSERT INTO accounts SELECT i.* FROM incoming i SEMI JOIN new_ids n USING (account_id)"
INSERT_NEW_IDENTIFIERS = """
INSERT INTO identifiers SELECT DISTINCT i.account_id, i.kind, i.value
FROM incoming_ids i SEMI JOIN new_ids n USING (account_id)
"""
