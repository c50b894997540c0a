"""Every Cypher statement the Neo4j engine sends, as named constants.

Values travel only as parameters (``$name``). The graph model:

- ``(:Account {account_id, created_at, email, ..., idx})``: ``idx`` is the account's
  position in account-id order, the account number pair results use;
- ``(:Identifier {kind, value})``, linked by ``(:Account)-[:HAS]->`` for signup identifiers
  and ``(:Account)-[:USED]->`` for the two kinds derived from usage (``request_ip``,
  ``prompt``);
- ``(:Usage {account_id, ts, epoch, ip, model, prompt_fingerprint, ...})``, one per usage row;
- ``(:Label)``, ``(:Quarantine)``, ``(:LoadedFile)`` for labels, rejected rows and loaded files;
- ``(:LedgerEntry {ledger, seq, body})``: append-only ledgers (decisions, ban batches,
  approvals, exports, unbans, the audit log), one node per row, ``body`` canonical JSON;
- ``(:ResultChunk {table, seq, rows, parquet})``: detection result tables, stored as Parquet
  chunks so they read back exactly; ring membership is also written onto the accounts
  (``ring_id``, ``risk_score``, ``flagged``, ``cluster_id``) for Neo4j Browser and Bloom.

``tests/test_cypher_syntax.py`` runs every constant here through Neo4j's own Cypher parser.
"""

from __future__ import annotations

LABELS = ("Account", "Identifier", "Usage", "Label", "Quarantine", "LoadedFile", "ResultChunk", "LedgerEntry")
RELATIONSHIP_TYPES = ("HAS", "USED")

# -- schema ------------------------------------------------------------------------------
# One statement each: schema commands cannot share a transaction with other statements.
SCHEMA = (
    (
        "CREATE CONSTRAINT ringwatch_account_id IF NOT EXISTS "
        "FOR (a:Account) REQUIRE a.account_id IS UNIQUE"
    ),
    (
        "CREATE CONSTRAINT ringwatch_identifier_key IF NOT EXISTS "
        "FOR (i:Identifier) REQUIRE (i.kind, i.value) IS UNIQUE"
    ),
    (
        "CREATE CONSTRAINT ringwatch_label_account IF NOT EXISTS "
        "FOR (l:Label) REQUIRE l.account_id IS UNIQUE"
    ),
    (
        "CREATE CONSTRAINT ringwatch_loaded_file IF NOT EXISTS "
        "FOR (f:LoadedFile) REQUIRE (f.kind, f.digest) IS UNIQUE"
    ),
    (
        "CREATE CONSTRAINT ringwatch_result_chunk IF NOT EXISTS "
        "FOR (c:ResultChunk) REQUIRE (c.table, c.seq) IS UNIQUE"
    ),
    (
        "CREATE CONSTRAINT ringwatch_ledger_entry IF NOT EXISTS "
        "FOR (e:LedgerEntry) REQUIRE (e.ledger, e.seq) IS UNIQUE"
    ),
    "CREATE INDEX ringwatch_account_idx IF NOT EXISTS FOR (a:Account) ON (a.idx)",
    "CREATE INDEX ringwatch_usage_account IF NOT EXISTS FOR (u:Usage) ON (u.account_id)",
    "CREATE INDEX ringwatch_usage_prompt IF NOT EXISTS FOR (u:Usage) ON (u.prompt_fingerprint)",
    "CREATE INDEX ringwatch_usage_request IF NOT EXISTS FOR (u:Usage) ON (u.request_id)",
)

GDS_VERSION = "RETURN gds.version() AS version"

# Projections of ours left behind by a crashed run; young ones may belong to a live run.
SWEEP_PROJECTIONS = """
CALL gds.graph.list() YIELD graphName, creationTime
WITH graphName, creationTime
WHERE graphName STARTS WITH $prefix AND creationTime < datetime() - duration({minutes: $minutes})
CALL gds.graph.drop(graphName, false) YIELD graphName AS dropped
RETURN dropped
"""

# Deletes a batch of ringwatch nodes; the caller repeats until nothing is left.
CLEAR_STORE = """
MATCH (n)
WHERE n:Account OR n:Identifier OR n:Usage OR n:Label OR n:Quarantine OR n:LoadedFile OR n:ResultChunk
   OR n:LedgerEntry
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
"""

# -- loading -----------------------------------------------------------------------------
SEEN_FILE = "MATCH (f:LoadedFile {kind: $kind, digest: $digest}) RETURN count(f) AS n"

LOADED_FILES = """
UNWIND $files AS file
MATCH (f:LoadedFile {kind: file.kind, digest: file.digest})
RETURN f.kind AS kind, f.digest AS digest, f.source AS source, f.rows AS rows
"""

# Which of these request ids a stored usage row carries (a re-delivered row is a duplicate).
STORED_REQUEST_IDS = """
UNWIND $ids AS id
MATCH (u:Usage {request_id: id})
RETURN DISTINCT u.request_id AS request_id
"""

RECORD_FILE = """
MERGE (f:LoadedFile {kind: $kind, digest: $digest})
ON CREATE SET f.source = $source, f.rows = $rows, f.loaded_at = localdatetime()
"""

NEW_ACCOUNT_IDS = """
UNWIND $ids AS id
OPTIONAL MATCH (a:Account {account_id: id})
WITH id, a WHERE a IS NULL
RETURN id
"""

MERGE_ACCOUNTS = """
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
ON CREATE SET a += row
"""

MERGE_IDENTIFIERS = """
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (v:Identifier {kind: row.kind, value: row.value})
MERGE (a)-[:HAS]->(v)
"""

# Usage rows have no natural key (a re-run is caught per file by LoadedFile), so CREATE.
CREATE_USAGE = """
UNWIND $rows AS row
CREATE (u:Usage)
SET u = row
"""

MERGE_USAGE_LINKS = """
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (v:Identifier {kind: row.kind, value: row.value})
MERGE (a)-[:USED]->(v)
"""

# Usage may arrive before its signups: link new accounts to usage already stored.
LINK_EARLIER_USAGE = """
UNWIND $ids AS id
MATCH (a:Account {account_id: id})
MATCH (u:Usage {account_id: id})
UNWIND [['request_ip', u.ip], ['prompt', u.prompt_fingerprint]] AS link
WITH DISTINCT a, link[0] AS kind, link[1] AS value
WHERE value IS NOT NULL
MERGE (v:Identifier {kind: kind, value: value})
MERGE (a)-[:USED]->(v)
"""

MERGE_LABELS = """
UNWIND $rows AS row
MERGE (l:Label {account_id: row.account_id})
SET l = row
"""

CREATE_QUARANTINE = """
UNWIND $rows AS row
CREATE (q:Quarantine)
SET q = row, q.recorded_at = localdatetime()
"""

# -- reading -----------------------------------------------------------------------------
COUNTS = """
RETURN COUNT { (:Account) } AS accounts,
       COUNT { (:Account)-[:HAS]->(:Identifier) } AS identifiers,
       COUNT { (:Usage) } AS usage_rows,
       COUNT { (:Label) } AS labels,
       COUNT { (:Quarantine) } AS quarantined
"""

ACCOUNTS = "MATCH (a:Account) RETURN a {.*} AS account"
ACCOUNTS_BY_ID = "UNWIND $ids AS id MATCH (a:Account {account_id: id}) RETURN a {.*} AS account"

ACCOUNT_NUMBERS = "MATCH (a:Account) RETURN a.account_id AS account_id, a.idx AS idx"

SET_ACCOUNT_NUMBERS = """
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
SET a.idx = row.idx
"""

LABELS_ALL = """
MATCH (l:Label)
RETURN l.account_id AS account_id, l.label AS label, l.ring_id AS ring_id, l.attributes AS attributes
"""

USAGE_SUMMARY = """
MATCH (u:Usage)
RETURN u.account_id AS account_id, sum(u.requests) AS requests, sum(u.input_tokens) AS input_tokens,
       sum(u.output_tokens) AS output_tokens, min(u.ts) AS first_ts, max(u.ts) AS last_ts,
       count(DISTINCT date(u.ts)) AS active_days, count(DISTINCT u.prompt_fingerprint) AS prompts
"""

PROMPT_SUMMARY = """
MATCH (u:Usage)
WHERE u.prompt_fingerprint IS NOT NULL
RETURN u.prompt_fingerprint AS prompt_fingerprint, count(DISTINCT u.account_id) AS accounts,
       sum(u.requests) AS requests
"""

# Buckets are counted from $origin in steps of $width seconds, as DuckDB's time_bucket does.
# The stored usage rows of some accounts, as loaded (a per-account timeline reads models and request IPs).
USAGE_ROWS = "UNWIND $account_ids AS id MATCH (u:Usage {account_id: id}) RETURN u {.*} AS usage"

MEMBER_USAGE = """
UNWIND $account_ids AS id
MATCH (u:Usage {account_id: id})
WITH u.account_id AS account_id, toInteger(floor(toFloat(u.epoch - $origin) / $width)) AS slot,
     u.prompt_fingerprint AS prompt_fingerprint, u.requests AS requests,
     u.input_tokens AS input_tokens, u.output_tokens AS output_tokens
RETURN account_id, slot, prompt_fingerprint, sum(requests) AS requests,
       sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
"""

# The review's usage per group and bucket (the embedded engine's USAGE_BY_GROUP_SQL): the
# listed accounts by their group, in batches, then every other account in one pass.
USAGE_BY_GROUP = """
UNWIND $rows AS row
MATCH (u:Usage {account_id: row.account_id})
WITH row.grp AS grp, toInteger(floor(toFloat(u.epoch - $origin) / $width)) AS slot, u
RETURN grp, slot, sum(u.requests) AS requests, sum(u.output_tokens) AS output_tokens, max(u.ts) AS last_ts
"""

USAGE_OUTSIDE_GROUPS = """
MATCH (u:Usage)
WHERE NOT u.account_id IN $account_ids
WITH toInteger(floor(toFloat(u.epoch - $origin) / $width)) AS slot, u
RETURN slot, sum(u.requests) AS requests, sum(u.output_tokens) AS output_tokens, max(u.ts) AS last_ts
"""

ACCOUNT_IDENTIFIERS = """
UNWIND $account_ids AS id
MATCH (a:Account {account_id: id})-[:HAS]->(v:Identifier)
RETURN a.account_id AS account_id, v.kind AS kind, v.value AS value
"""

# -- graph questions ---------------------------------------------------------------------
IDENTIFIER_DEGREES = """
MATCH (v:Identifier)<-[:HAS|USED]-(a:Account)
WITH v.kind AS kind, v.value AS value, count(DISTINCT a) AS accounts
WHERE accounts >= $min_accounts
RETURN kind, value, accounts
ORDER BY accounts DESC, kind, value
"""

DEGREE_HISTOGRAM = """
MATCH (v:Identifier)<-[:HAS|USED]-(a:Account)
WITH v.kind AS kind, v.value AS value, count(DISTINCT a) AS accounts
RETURN kind, accounts, count(*) AS values
ORDER BY kind, accounts
"""

IDENTIFIER_KINDS = """
MATCH (v:Identifier)
WHERE EXISTS { (v)<-[:HAS]-(:Account) }
RETURN DISTINCT v.kind AS kind
ORDER BY kind
"""

VALUE_DEGREES = """
UNWIND $values AS w
OPTIONAL MATCH (v:Identifier {kind: w.kind, value: w.value})<-[:HAS|USED]-(a:Account)
RETURN w.kind AS kind, w.value AS value, count(DISTINCT a) AS accounts
"""

# The embedded engine's PAIRS_SQL in Cypher. Members of a value are sorted by account
# number; a value with n <= $pair_cap links all pairs (i < j), a larger one links each
# account to the first $anchors accounts only. Each value adds
# weight * max(0, ln(N/n) / ln(N/2)) to its family; a pair is returned when its family
# scores (each capped at 1) add up to $min_total, one family's score reaches that
# family's alone score (k.alone, null: never alone), one family's uncapped score reaches
# How many candidate pairs PAIR_EVIDENCE will group (before grouping): values shared by 2 to
# $hub_cap accounts give every pair, or each of their first $anchors members paired with the rest.
PAIR_CANDIDATES = """
UNWIND $kinds AS k
MATCH (v:Identifier {kind: k.kind})<-[:HAS|USED]-(acc:Account)
WITH k, v, count(DISTINCT acc) AS n
WHERE n >= 2 AND n <= $hub_cap
WITH n, CASE WHEN n <= $pair_cap THEN n ELSE $anchors END AS heads
RETURN sum(heads * (n - 1) - heads * (heads - 1) / 2) AS pairs
"""

# The embedded engine's PAIRS_SQL in Cypher, in piece $piece of $pieces: the pairs whose
# lower account number is $piece modulo $pieces (a pair is whole in one piece, so pieces
# only bound the server's grouping memory). Members of a value are sorted by account
# number; a value with n <= $pair_cap links all pairs (i < j), a larger one links each
# account to the first $anchors accounts only. Each value adds
# weight * max(0, ln(N/n) / ln(N/2)) to its family; a pair is returned when its family
# scores (each capped at 1) add up to $min_total, one family's score reaches that
# family's alone score (k.alone, null: never alone), one family's uncapped score reaches
# $keep_score, or it is in $keep (keys "a,b").
PAIR_EVIDENCE = """
UNWIND $kinds AS k
MATCH (v:Identifier {kind: k.kind})<-[:HAS|USED]-(acc:Account)
WITH k, v, acc ORDER BY acc.idx
WITH k, v, collect(DISTINCT acc.idx) AS members
WITH k, members, size(members) AS n
WHERE n >= 2 AND n <= $hub_cap
WITH k.family AS family, k.alone AS alone, members, n,
     k.weight * CASE WHEN log($total / n) > 0.0 THEN log($total / n) / log($total / 2.0) ELSE 0.0 END AS score,
     CASE WHEN n <= $pair_cap THEN n ELSE $anchors END AS heads
UNWIND range(0, heads - 1) AS i
UNWIND range(i + 1, n - 1) AS j
WITH members[i] AS a, members[j] AS b, family, alone, score
WHERE a % $pieces = $piece
WITH a, b, family, min(alone) AS alone, sum(score) AS score, count(*) AS shared
WITH a, b, collect({family: family, score: score, shared: shared, alone: alone}) AS fams
WITH a, b, fams,
     reduce(t = 0.0, f IN fams | t + CASE WHEN f.score < 1.0 THEN f.score ELSE 1.0 END) AS capped,
     reduce(x = false, f IN fams | x OR (f.alone IS NOT NULL AND f.score >= f.alone)
                                     OR f.score >= $keep_score) AS alone
WHERE capped >= $min_total OR alone OR $keep[toString(a) + ',' + toString(b)] IS NOT NULL
UNWIND fams AS f
RETURN a, b, f.family AS family, f.score AS score, f.shared AS shared
ORDER BY a, b, family
"""

# Activity per account, prompt fingerprint and time bucket, summed requests as the weight;
# fingerprints used by more than $max_degree signed-up accounts are popular templates and skipped.
SIMILARITY_ACTIVITY = """
MATCH (u:Usage)
WHERE u.prompt_fingerprint IS NOT NULL
MATCH (:Account {account_id: u.account_id})
WITH u.prompt_fingerprint AS fp, count(DISTINCT u.account_id) AS users
WHERE users <= $max_degree
MATCH (u:Usage {prompt_fingerprint: fp})
MATCH (a:Account {account_id: u.account_id})
WITH a.idx AS idx, fp, toInteger(floor(toFloat(u.epoch - $origin) / $width)) AS slot, u.requests AS requests
RETURN idx, fp, slot, sum(toFloat(requests)) AS weight
"""

# -- results -----------------------------------------------------------------------------
DELETE_RESULT_CHUNKS = """
MATCH (c:ResultChunk)
WHERE c.table IN $tables
DETACH DELETE c
"""

MERGE_RESULT_CHUNKS = """
UNWIND $rows AS row
MERGE (c:ResultChunk {table: row.table, seq: row.seq})
SET c.rows = row.rows, c.parquet = row.parquet
"""

RESULT_CHUNKS = """
MATCH (c:ResultChunk {table: $table})
RETURN c.seq AS seq, c.parquet AS parquet
ORDER BY seq
"""

CLEAR_RING_MARKS = """
MATCH (a:Account)
WHERE a.cluster_id IS NOT NULL OR a.ring_id IS NOT NULL
REMOVE a.ring_id, a.risk_score, a.flagged, a.cluster_id
"""

MARK_RINGS = """
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
SET a.ring_id = row.ring_id, a.risk_score = row.risk_score, a.flagged = row.flagged,
    a.cluster_id = row.cluster_id
"""

# -- ledgers -----------------------------------------------------------------------------
LEDGER_NEXT_SEQ = """
OPTIONAL MATCH (e:LedgerEntry {ledger: $ledger})
RETURN coalesce(max(e.seq), -1) + 1 AS next
"""

# CREATE, never MERGE: with the (ledger, seq) constraint a clashing append fails instead
# of overwriting an entry.
APPEND_LEDGER = """
UNWIND $rows AS row
CREATE (e:LedgerEntry {ledger: $ledger, seq: row.seq, body: row.body})
"""

LEDGER_ENTRIES = """
MATCH (e:LedgerEntry {ledger: $ledger})
RETURN e.seq AS seq, e.body AS body
ORDER BY seq
"""

VALUE_ACCOUNTS = """
UNWIND $values AS w
WITH DISTINCT w.kind AS kind, w.value AS value
MATCH (v:Identifier {kind: kind, value: value})<-[:HAS]-(a:Account)
WITH v, a.account_id AS account_id ORDER BY account_id
WITH v, collect(account_id) AS holder_ids
UNWIND holder_ids[0..$per_value] AS account_id
RETURN account_id, v.kind AS kind, v.value AS value, size(holder_ids) AS holders
ORDER BY kind, value, account_id
LIMIT $limit
"""


def all_queries() -> dict[str, str]:
    """Every Cypher statement above by name (schema statements numbered)."""
    out = {name: value for name, value in globals().items() if name.isupper() and isinstance(value, str)}
    out.update({f"SCHEMA[{i}]": q for i, q in enumerate(SCHEMA)})
    return out
