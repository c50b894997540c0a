"""The Spark engine's Spark SQL: the embedded engine's questions (``embedded.sql``), as Spark runs them.

Each statement reads its relations as ``{name}`` (a DataFrame PySpark names for the
statement) and its values as ``:name`` parameters, never formatted into the text. The
semantics are the embedded engine's, checked by the engine contract and reference suites;
what differs is how Spark is asked:

- a value is named by its (kind, value), not by a number: numbering values in one order is a
  sort of every value on one worker, where a join on two text columns spreads over all;
- sums of evidence are exact: each score in units of 2^-80 (the embedded engine's HUGEINT
  grain) split into two 64-bit integers, its units of 2^-40 and the rest, summed apart, so every
  worker count and order gives the same total (Spark sums 128-bit decimals through Java's
  BigDecimal: on 369,065 pair rows the query took 7.0-7.3 s with them, 5.4-6.4 s without);
- a usage bucket is a number, counted from ``policy.BUCKET_ORIGIN`` in whole widths by integer
  arithmetic (the co-activity join only asks whether two rows share one).
"""

from __future__ import annotations

# Every account-identifier link the graph uses, by account number: signup identifiers (held
# once per account by the store), and the distinct request IPs and prompts of each account.
HELD = """
SELECT x.idx, l.kind, l.value FROM (
    SELECT account_id, kind, value FROM {identifiers}
    UNION ALL SELECT DISTINCT account_id, 'request_ip' AS kind, ip AS value FROM {usage} WHERE ip IS NOT NULL
    UNION ALL SELECT DISTINCT account_id, 'prompt' AS kind, prompt_fingerprint AS value FROM {usage}
        WHERE prompt_fingerprint IS NOT NULL
) l JOIN {account_index} x ON x.account_id = l.account_id
"""
# Values two accounts or more hold (the only ones that can link a pair), with their number.
VALUE_DEGREE = "SELECT kind, value, count(*) AS n FROM {held} GROUP BY kind, value HAVING count(*) >= 2"
# One account's own values, counted per kind: the rows of a kind less those of its shared values.
OWN_VALUES = """
SELECT h.kind, h.n - coalesce(d.n, 0) AS n FROM (SELECT kind, count(*) AS n FROM {held} GROUP BY kind) h
LEFT JOIN (SELECT kind, sum(n) AS n FROM {value_degree} GROUP BY kind) d ON d.kind = h.kind
"""

DEGREES = "SELECT kind, value, n AS accounts FROM {value_degree} WHERE n >= :least ORDER BY accounts DESC, kind, value"
DEGREES_ALL = """
SELECT kind, value, count(*) AS accounts FROM {held} GROUP BY kind, value HAVING count(*) >= :least
ORDER BY accounts DESC, kind, value
"""
DEGREE_HISTOGRAM = """
SELECT kind, accounts, `values` FROM (
    SELECT kind, n AS accounts, count(*) AS `values` FROM {value_degree} GROUP BY kind, n
    UNION ALL SELECT kind, 1 AS accounts, n AS `values` FROM {own_values} WHERE n > 0
) ORDER BY kind, accounts
"""
# A wanted value the shared values lack is held by one account, or by none.
VALUE_DEGREES = """
SELECT w.kind, w.value, coalesce(d.n, CASE WHEN h.value IS NULL THEN 0 ELSE 1 END) AS accounts
FROM {wanted} w LEFT JOIN {value_degree} d ON d.kind = w.kind AND d.value = w.value
LEFT JOIN (SELECT DISTINCT kind, value FROM {held}) h ON h.kind = w.kind AND h.value = w.value
"""

# The link rule (``policy.LinkPolicy``; ``embedded.sql.PAIRS`` explains it): each value's
# accounts with their rank in it, every pair of a small value, and each account of a large one
# with the value's first `anchors` accounts; evidence summed per pair and family, and the pairs
# the rule keeps. Spark plans the whole of it at once: its shuffles spill to disk, so there are
# no parts to ask.
PAIR_VALUES = """
SELECT h.idx, h.kind, h.value, d.n, greatest(ln(:total / d.n) / ln(:total / 2), 0) * kw.weight AS score,
       CAST(kw.f AS INT) AS f, row_number() OVER (PARTITION BY h.kind, h.value ORDER BY h.idx) AS rk
FROM {held} h JOIN {value_degree} d ON d.kind = h.kind AND d.value = h.value
JOIN {kind_weights} kw ON kw.kind = h.kind
WHERE d.n <= :hub_cap
"""
PAIRS = """
WITH small AS (
    SELECT x.idx AS a, y.idx AS b, x.f, x.score
    FROM {pair_values} x JOIN {pair_values} y ON x.kind = y.kind AND x.value = y.value AND x.idx < y.idx
    WHERE x.n <= :pair_cap
), big AS (
    SELECT least(x.idx, y.idx) AS a, greatest(x.idx, y.idx) AS b, x.f, x.score
    FROM {pair_values} x JOIN {pair_values} y ON x.kind = y.kind AND x.value = y.value AND x.idx <> y.idx
    WHERE x.n > :pair_cap AND y.rk <= :anchors AND NOT (x.rk <= :anchors AND x.idx < y.idx)
), fam AS (
    SELECT a, b, f, CAST(sum(hi) AS DOUBLE) / :half + CAST(sum(lo) AS DOUBLE) / :grain AS score, count(*) AS shared
    FROM (SELECT a, b, f, CAST(floor(score * :half) AS BIGINT) AS hi,
                 CAST(round((score * :half - floor(score * :half)) * :half) AS BIGINT) AS lo
          FROM (SELECT * FROM small UNION ALL SELECT * FROM big))
    GROUP BY a, b, f
), bars AS (SELECT CAST(f AS INT) AS f, min(alone) AS alone FROM {kind_weights} GROUP BY 1
), capped AS (
    SELECT fam.a, fam.b, fam.score, bars.alone, least(fam.score, 1.0) * :half AS c FROM fam JOIN bars ON bars.f = fam.f
), kept AS (
    SELECT a, b FROM (
        SELECT a, b, sum(CAST(floor(c) AS BIGINT)) AS hi, sum(CAST(round((c - floor(c)) * :half) AS BIGINT)) AS lo,
               max(CASE WHEN score >= alone THEN 1 ELSE 0 END) AS alone, max(score) AS top
        FROM capped GROUP BY a, b)
    WHERE hi + lo div :whole > :bar_hi OR (hi + lo div :whole = :bar_hi AND pmod(lo, :whole) >= :bar_lo)
       OR alone = 1 OR top >= :keep_score
    UNION SELECT CAST(a AS INT) AS a, CAST(b AS INT) AS b FROM {keep_pairs}
)
SELECT CAST(p.a AS INT) AS a, CAST(p.b AS INT) AS b, p.f, p.score, p.shared
FROM fam p LEFT SEMI JOIN kept k ON k.a = p.a AND k.b = p.b
"""
# How many kept pair rows each run of `width` account numbers starts (to cut the reading into parts).
PAIR_ROWS = "SELECT a div :width AS part, count(*) AS pairs FROM {pairs} GROUP BY 1 ORDER BY 1"
PAIR_PART = "SELECT a, b, f, score, shared FROM {pairs} WHERE a >= :lo AND a < :hi ORDER BY a, b, f"

# Co-activity (``policy.SimilarityPolicy``; ``embedded.sql.SIMILARITY_ACTIVITY`` and
# ``SIMILARITY_PAIRS``): activity rows of templates used by at most `max_degree` accounts
# (a template not among the shared values is one account's), then the weighted Jaccard of
# every pair sharing a (template, bucket), the cutoffs and top-k.
SIMILARITY = """
WITH stamped AS (
    SELECT u.account_id, u.prompt_fingerprint, u.requests,
           unix_micros(CAST(u.ts AS TIMESTAMP)) - :origin AS since
    FROM {usage} u WHERE u.prompt_fingerprint IS NOT NULL
), act AS (
    SELECT x.idx, s.prompt_fingerprint AS fp, (s.since - pmod(s.since, :width)) div :width AS bucket,
           CAST(sum(s.requests) AS DOUBLE) AS w
    FROM stamped s JOIN {account_index} x ON x.account_id = s.account_id
    LEFT JOIN (SELECT value, n FROM {value_degree} WHERE kind = 'prompt') d ON d.value = s.prompt_fingerprint
    WHERE coalesce(d.n, 1) <= :max_degree
    GROUP BY 1, 2, 3
), deg AS (
    SELECT idx, sum(w) AS total FROM act GROUP BY 1 HAVING count(*) >= :degree_cutoff
), act2 AS (
    SELECT act.* FROM act LEFT SEMI JOIN deg ON act.idx = deg.idx
), pair AS (
    SELECT x.idx AS a, y.idx AS b, sum(least(x.w, y.w)) AS smin, count(*) AS common
    FROM act2 x JOIN act2 y ON x.fp = y.fp AND x.bucket = y.bucket AND x.idx < y.idx
    GROUP BY 1, 2
), sim AS (
    SELECT a, b, smin / (da.total + db.total - smin) AS similarity, common
    FROM pair JOIN deg da ON da.idx = a JOIN deg db ON db.idx = b
), kept AS (SELECT * FROM sim WHERE similarity >= :cutoff
), ranked AS (
    SELECT a, b, similarity, common, row_number() OVER (PARTITION BY a ORDER BY similarity DESC, b) AS ra,
           row_number() OVER (PARTITION BY b ORDER BY similarity DESC, a) AS rb
    FROM kept
)
SELECT CAST(a AS INT) AS a, CAST(b AS INT) AS b, similarity, common FROM ranked
WHERE ra <= :top_k OR rb <= :top_k ORDER BY a, b
"""

# Usage sums, as ``embedded.sql.USAGE_SUMMARY`` and ``PROMPT_SUMMARY`` give them (sums as DOUBLE).
USAGE_SUMMARY = """
SELECT account_id, CAST(sum(requests) AS DOUBLE) AS requests, CAST(sum(input_tokens) AS DOUBLE) AS input_tokens,
       CAST(sum(output_tokens) AS DOUBLE) AS output_tokens, min(ts) AS first_ts, max(ts) AS last_ts,
       count(DISTINCT to_date(ts)) AS active_days, count(DISTINCT prompt_fingerprint) AS prompts
FROM {usage} GROUP BY account_id
"""
PROMPT_SUMMARY = """
SELECT prompt_fingerprint, count(*) AS accounts, CAST(sum(requests) AS DOUBLE) AS requests
FROM (SELECT prompt_fingerprint, account_id, sum(requests) AS requests FROM {usage}
      WHERE prompt_fingerprint IS NOT NULL GROUP BY 1, 2)
GROUP BY 1
"""

# Connected components by large-star and small-star (Kiveris et al., "Connected Components in
# MapReduce and Beyond", SoCC 2014), on edges (u, v) between node numbers. Large-star joins every
# larger neighbour of a node to the least of its neighbourhood; small-star joins a node and its
# smaller neighbours to the least of them. Both keep the components; repeated, they leave each
# component a star around its least node, in O(log n) rounds.
LARGE_STAR = """
WITH sym AS (SELECT u, v FROM {edges} UNION ALL SELECT v AS u, u AS v FROM {edges}),
least_of AS (SELECT u, least(u, min(v)) AS m FROM sym GROUP BY u)
SELECT DISTINCT b.v AS u, l.m AS v FROM sym b JOIN least_of l ON l.u = b.u WHERE b.v > b.u
"""
SMALL_STAR = """
WITH down AS (SELECT DISTINCT greatest(u, v) AS u, least(u, v) AS v FROM {edges} WHERE u <> v),
least_of AS (SELECT u, min(v) AS m FROM down GROUP BY u)
SELECT DISTINCT d.v AS u, l.m AS v FROM down d JOIN least_of l ON l.u = d.u WHERE d.v <> l.m
UNION SELECT u, m AS v FROM least_of
"""
# A star forest: every node has one edge, to a node that has none.
NOT_STARS = """
SELECT (SELECT count(*) FROM {edges}) - (SELECT count(DISTINCT u) FROM {edges})
     + (SELECT count(*) FROM {edges} e LEFT SEMI JOIN {edges} f ON f.u = e.v) AS left_over
"""
