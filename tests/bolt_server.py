"""A throwaway Bolt + Cypher server for the test session: ArcadeDB, from the arcadedb-embedded wheel.

The only place that knows how to start it. The wheel bundles a Java runtime and ArcadeDB's
jars (its Bolt plugin among them), so nothing but the wheel is needed. The server listens on
free loopback ports (Bolt, and HTTP, which it always opens), keeps its databases, config and
logs in a temporary directory, logs in ``root`` with a generated password and serves a
``neo4j`` database. It reports itself as Neo4j 5.26 compatible over Bolt 5.4 and has no
Graph Data Science library. Stopped by its PID: terminate, then kill.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import neo4j
from neo4j.exceptions import DriverError, Neo4jError

PACKAGE = "arcadedb_embedded"
MAIN_CLASS = "com.arcadedb.server.ArcadeDBServer"
USER = "root"
DATABASE = "neo4j"
START_TIMEOUT = 180.0  # seconds; a cold start on a busy 2-core machine takes well under a minute
STOP_TIMEOUT = 30.0


class BoltServerError(RuntimeError):
    """The server could not be started; the message ends with its log."""


def package_dir() -> Path | None:
    """Where the installed wheel's package lives (found, not imported: importing it starts nothing)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def available() -> bool:
    """True when the wheel is installed with its bundled Java runtime."""
    home = package_dir()
    return home is not None and _java(home).is_file()


def _java(home: Path) -> Path:
    return home / "jre" / "bin" / ("java.exe" if os.name == "nt" else "java")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child before Java starts: the kernel stops the server if this test process dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class BoltServer:
    """A running server: where it answers, who logs in, and its process."""

    uri: str
    password: str = field(repr=False)
    root: Path
    process: subprocess.Popen = field(repr=False)
    started_in: float = 0.0
    user: str = USER

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the server's output, the password hidden."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:]).replace(self.password, "***")

    def stop(self) -> None:
        """Stop the server by its PID (terminate, then kill) and remove its directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        shutil.rmtree(self.root)


def _command(home: Path, root: Path, password: str, bolt: int, http: int, options: tuple[str, ...] = ()) -> list[str]:
    # Server options go in a Java argument file inside the private temp dir, so the password
    # never shows in the process list.
    options = [
        "-Xmx2g", "-XX:-UsePerfData",
        f"-Darcadedb.server.rootPath={root.as_posix()}",
        f"-Darcadedb.server.rootPassword={password}",
        f"-Darcadedb.server.defaultDatabases={DATABASE}[{USER}]",
        "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        "-Darcadedb.bolt.host=127.0.0.1", f"-Darcadedb.bolt.port={bolt}",
        "-Darcadedb.server.httpIncomingHost=127.0.0.1", f"-Darcadedb.server.httpIncomingPort={http}",
        *options,  # later options win: a larger heap or query budget for a bigger data set
    ]
    argfile = root / "server.args"
    argfile.write_text("\n".join(f'"{o}"' for o in options) + "\n")
    argfile.chmod(0o600)
    classpath = str(home / "jars") + os.sep + "*"
    return [str(_java(home)), f"@{argfile}", "-cp", classpath, MAIN_CLASS]


def start(timeout: float = START_TIMEOUT, options: tuple[str, ...] = ()) -> BoltServer:
    """Start the server and wait until the neo4j driver runs ``RETURN 1`` on its database.

    ``options`` are extra Java options, such as ``-Xmx6g`` or ``-Darcadedb.queryMaxHeapRAM=0``
    (ArcadeDB's budget for the buffers of all queries, half the heap by default).
    """
    home = package_dir()
    if home is None or not _java(home).is_file():
        raise BoltServerError(f"the {PACKAGE} package (PyPI: arcadedb-embedded) with its Java runtime is not installed")
    # Wheels do not always keep the execute bit on the bundled runtime's tools.
    for tool in _java(home).parent.iterdir():
        tool.chmod(tool.stat().st_mode | 0o111)
    root = Path(tempfile.mkdtemp(prefix="ringwatch-bolt-"))
    password = secrets.token_urlsafe(24)
    bolt, http = _free_port(), _free_port()
    began = time.monotonic()
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            _command(home, root, password, bolt, http, tuple(options)), cwd=root, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
            # Started during collection, before any test starts a thread, so preexec_fn is safe here.
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
    server = BoltServer(uri=f"bolt://127.0.0.1:{bolt}", password=password, root=root, process=process)
    try:
        _wait_until_ready(server, began + timeout)
    except (BoltServerError, DriverError, Neo4jError, OSError) as exc:
        exited = process.poll()
        log_text = server.log_tail()
        server.stop()
        state = f"it exited with code {exited}" if exited is not None else "it was stopped"
        raise BoltServerError(f"the ArcadeDB Bolt server at {server.uri} did not answer `RETURN 1` within "
                              f"{timeout:.0f} s ({state})\nlast error: {exc}\nits log:\n{log_text}") from None
    except BaseException:  # interrupted: leave nothing running
        server.stop()
        raise
    server.started_in = time.monotonic() - began
    return server


def _wait_until_ready(server: BoltServer, deadline: float) -> None:
    while True:
        if server.process.poll() is not None:
            raise BoltServerError("the server exited")
        try:
            # A plain session, not execute_query: that retries on its own with growing pauses.
            with neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password),
                                            connection_timeout=2.0) as driver, driver.session(database=DATABASE) as s:
                s.run("RETURN 1 AS ready").consume()
            return
        except (DriverError, Neo4jError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)
