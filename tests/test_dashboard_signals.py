"""Stopping `ringwatch dashboard` the way a service manager or `docker stop` does stops the server too.

The real command serves a real demo store on a free port; the test signals only the process
it started (never its process group), then checks that the port is free again and that no
process it left behind is still running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from browser_support import free_port, ringwatch, wait_until_serving
from dashboard_store import make_demo_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_demo_store(tmp_path_factory.mktemp("signals"), accounts=500)


def _group(pgid: int) -> list[int]:
    """Processes still running in a process group (zombies are gone already: nothing serves from them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_command_stops_the_server(store, tmp_path, sig):
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    # Its own session, so whatever it leaves behind can be found (and cleaned up) by process group.
    proc = subprocess.Popen([*ringwatch(), "dashboard", "--db", str(store), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_serving(proc, port, tmp_path / "server.log")
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while (_group(proc.pid) or _listening(port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(proc.pid) == [], "a process of `ringwatch dashboard` outlived it"
        assert not _listening(port), f"port {port} is still served after the command stopped"
    finally:
        for pid in _group(proc.pid):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        log.close()
