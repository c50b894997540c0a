"""Input files read with DuckDB's own readers, for ingest (``ingest.usage_sql``).

Each query runs on a connection of its own, in memory: it never touches the store, so it
may run on the reading thread while the store loads another batch. Its result streams in
Arrow batches; an error reading the file becomes ``ContractError``.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa
from ringwatch.ingest.errors import ContractError

from ringwatch.settings import memory_limit


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No progress bar: DuckDB draws one on standard output for a query of over two seconds, even into a pipe,
    where it would run into what a command prints (a JSON report, an account id read by another program)."""
    con.execute("SET enable_progress_bar = false")
    return con


def scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB under ringwatch's memory limit (``settings.memory_limit``), without a progress bar."""
    return quiet(duckdb.connect(config={"memory_limit": memory_limit()}))


def scan_files(query: str, params: list, batch_rows: int, tables: dict[str, pa.Table]) -> Iterator[pa.RecordBatch]:
    """Run a read-only ``query`` (its first parameter the file's path, ``tables`` readable by their
    names) and yield its rows in batches."""
    con = scratch()
    try:
        for name, table in tables.items():
            con.register(name, table)
        yield from con.sql(query, params=params).to_arrow_reader(batch_rows)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise ContractError(f"{params[0]}: cannot be read: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
