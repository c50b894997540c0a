"""Every setting ringwatch reads, declared once: name, default, environment variable and help.

Command-line options take their defaults and help from here, and the library reads the
environment only through ``Setting.value``, so this table is the whole list (the README's
settings tables are checked against it by the tests).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One setting; ``secret`` settings are never printed or shown as a default."""

    name: str
    default: str
    env: str
    help: str
    secret: bool = False

    def value(self, env: Mapping[str, str] | None = None) -> str:
        """The value from the environment (or ``env``), else the default; an empty variable counts as unset."""
        source = os.environ if env is None else env
        return source.get(self.env) or self.default

    def integer(self, env: Mapping[str, str] | None = None, minimum: int = 0) -> int:
        """The value as an integer of at least ``minimum``, or ValueError naming the variable."""
        raw = self.value(env)
        try:
            number = int(raw)
        except ValueError:
            number = minimum - 1
        if number < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
            raise ValueError(f"{self.env} must be {kind}, got {raw!r}")
        return number


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("db", "ringwatch.duckdb", "RINGWATCH_DB", "Store path (embedded engine: a DuckDB file)."),
    Setting("engine", "embedded", "RINGWATCH_ENGINE",
            "Graph engine: embedded (the default, no server) or another registered engine, such as neo4j."),
    Setting("analyst", "", "RINGWATCH_ANALYST", "Who is acting (recorded in the audit log)."),
    Setting("model", "latest", "RINGWATCH_MODEL",
            "Ring score weights detection uses: latest (the latest trained model, else the priors), prior, "
            "or a model version such as m2."),
    Setting("audit_key", "", "RINGWATCH_AUDIT_KEY",
            "Seals new audit entries with HMAC-SHA256 under this key (and verifies them); never logged or shown.",
            secret=True),
    Setting("dashboard_url", "", "RINGWATCH_DASHBOARD_URL",
            "The dashboard's address (such as https://ringwatch.example.com); the weekly review links ring ids "
            "to it."),
    Setting("lock_wait", "30", "RINGWATCH_LOCK_WAIT",
            "Embedded engine: seconds a command waits for a store another process holds open (--wait)."),
    Setting("memory_limit", "auto", "RINGWATCH_MEMORY_LIMIT",
            "DuckDB's memory limit (the embedded store, ingest's file readers, the Neo4j engine's local "
            "similarity), such as 6GB; larger joins spill to disk. auto: a quarter of the memory this machine (or "
            "its container) has, at least 1GB; the rest is left to detection's own frames."),
    Setting("cluster_slice", "250000", "RINGWATCH_CLUSTER_SLICE",
            "Detection: clustered accounts whose ring features and scores are computed together; fewer hold "
            "less memory but read the store once more per slice, and the results are the same."),
    Setting("slice_threads", "2", "RINGWATCH_SLICE_THREADS",
            "Detection: slices of clusters scored at once, each on a thread of its own while the store reads the "
            "next; each holds its slice in memory, 1 scores them one after another, and the results are the same."),
    Setting("neo4j_uri", "bolt://localhost:7687", "NEO4J_URI", "Neo4j engine: the server."),
    Setting("neo4j_user", "neo4j", "NEO4J_USER", "Neo4j engine: user name."),
    Setting("neo4j_password", "", "NEO4J_PASSWORD", "Neo4j engine: password (never logged or shown).", secret=True),
    Setting("neo4j_database", "", "NEO4J_DATABASE",
            "Neo4j engine: database to use (default: the server's); --db is ignored by this engine."),
    Setting("neo4j_algorithms", "auto", "RINGWATCH_NEO4J_ALGORITHMS",
            "Neo4j engine: where WCC, community detection and similarity run: auto (Graph Data Science when "
            "the server has it, else in this process), gds, or local (in this process, as the embedded engine)."),
    Setting("neo4j_batch", "10000", "RINGWATCH_NEO4J_BATCH", "Neo4j engine: rows per UNWIND batch when loading."),
    Setting("neo4j_pair_piece", "2000000", "RINGWATCH_NEO4J_PAIR_PIECE",
            "Neo4j engine: candidate account pairs the server groups in one query when weighing shared "
            "identifiers; more are split into pieces by account number, so the server's query memory stays bounded."),
    Setting("spark_master", "", "RINGWATCH_SPARK_MASTER",
            "Spark engine: the cluster to run on, such as local[4], spark://host:7077, yarn or k8s://...; empty: "
            "spark-submit's --master, else local[*]. A session already running (spark-submit, a notebook) is used "
            "as it is."),
    Setting("spark_conf", "", "RINGWATCH_SPARK_CONF",
            "Spark engine: more Spark settings for the session it starts, as spark.key=value pairs separated by "
            "spaces, such as spark.driver.memory=8g; spark-defaults.conf and PYSPARK_SUBMIT_ARGS apply too."),
    Setting("spark_workdir", "", "RINGWATCH_SPARK_WORKDIR",
            "Spark engine: the folder the store writes its records to for Spark, once per run (on a cluster, one "
            "every executor can read); empty: a temporary folder of this machine, removed when the engine closes."),
    Setting("spark_results", "", "RINGWATCH_SPARK_RESULTS",
            "Spark engine: a folder or URI (such as s3a://bucket/ringwatch) each detection run's results are also "
            "written to, once stored, as Parquet tables, one folder per table partitioned by revision; "
            "empty: the results stay in the store only."),
    Setting("spark_split_links", "5000000", "RINGWATCH_SPARK_SPLIT_LINKS",
            "Spark engine: the most strong links a large component may have to be split into communities whole on "
            "one worker (Louvain, as the embedded engine); a larger one is split across the cluster by label "
            "propagation, and the run says so."),
    Setting("neo4j_stale_minutes", "60", "RINGWATCH_NEO4J_STALE_MINUTES",
            "Neo4j engine: graph projections of ours older than this are left-overs of a crashed run and dropped."),
)}


# ``auto``'s share of the memory there is: at 10,000,000 accounts on 24 GB, 6 GB (a quarter) ran
# detection as fast as 8 GB with 1.4 GB less at the peak, and 3 GB spilled the link table to disk.
MEMORY_SHARE = 0.25
MIN_MEMORY_LIMIT = 2**30
# Container limits (cgroup v2, then v1): a process in a container may have less than the machine.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def memory_limit(env: Mapping[str, str] | None = None) -> str:
    """DuckDB's memory limit: ``RINGWATCH_MEMORY_LIMIT`` as given, or for ``auto`` ``MEMORY_SHARE`` of
    ``usable_memory()`` in MiB (at least ``MIN_MEMORY_LIMIT``; 3GB where the memory cannot be told)."""
    given = SETTINGS["memory_limit"].value(env)
    if given.strip().lower() != "auto":
        if not re.fullmatch(r"\s*\d+(\.\d+)?\s*[A-Za-z]*\s*", given):
            raise ValueError(f"{SETTINGS['memory_limit'].env} must be a size such as 6GB, or auto, got {given!r}")
        return given
    share = memory_share()
    return "3GB" if share is None else f"{share // 2**20}MiB"


def memory_share() -> int | None:
    """``MEMORY_SHARE`` of ``usable_memory()`` in bytes, at least ``MIN_MEMORY_LIMIT``; None where the memory
    cannot be told."""
    usable = usable_memory()
    return None if usable is None else max(MIN_MEMORY_LIMIT, int(usable * MEMORY_SHARE))


def usable_memory(limits=CGROUP_LIMITS) -> int | None:
    """Bytes of memory this process can have: the machine's, or its container's limit where that is lower;
    None where neither can be read."""
    try:
        usable = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        usable = None
    for path in limits:
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) > 0:  # "max" (v2) means no limit; v1 says so with a huge number
            usable = min(usable, int(text)) if usable else int(text)
    return usable


def override(name: str, value) -> None:
    """Set a setting for the rest of this process (a command-line option that every store opened must follow)."""
    os.environ[SETTINGS[name].env] = str(value)


def child_environment(**values: str) -> dict[str, str]:
    """This process's environment with these settings (by name) set, for a process ringwatch starts."""
    return dict(os.environ, **{SETTINGS[name].env: str(value) for name, value in values.items()})
