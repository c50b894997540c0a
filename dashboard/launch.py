"""Starting the dashboard server (`ringwatch dashboard`), and refusing login secrets that cannot work.

The app reads its store from the ``db`` and ``engine`` settings, which the launcher passes
on through the environment, so a page never parses the command line.

`ringwatch dashboard` becomes the Streamlit server (exec) rather than waiting on it as a
child: whatever stops the command — Ctrl+C, a service manager's or `docker stop`'s SIGTERM,
a SIGKILL — then stops the server itself, and no server is left holding the port and the store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlparse

from ringwatch.graph.engines import require_store

from ringwatch.settings import child_environment

APP = Path(__file__).with_name("app.py")
LOGIN_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
# Streamlit's own flags: headless on localhost, no usage statistics, no tracebacks in the browser.
SERVER_FLAGS = ("--server.headless", "true", "--server.address", "localhost", "--browser.gatherUsageStats", "false",
                "--client.showErrorDetails", "none", "--client.toolbarMode", "viewer")


class LaunchError(Exception):
    """The dashboard cannot start as asked (the message says why, in one line)."""


def check_login_secrets(path: Path, port: int) -> None:
    """Refuse a secrets file whose login section would only fail when an analyst clicks Sign in."""
    try:
        auth = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("auth")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LaunchError(f"{path} is not valid TOML: {exc}") from exc
    if not isinstance(auth, dict):
        raise LaunchError(f"{path} has no [auth] section: see the README's 'Who is acting'")
    missing = [k for k in LOGIN_KEYS if not auth.get(k)]
    if missing:
        raise LaunchError(f"{path}: [auth] needs {', '.join(missing)} "
                          "(one OpenID Connect provider, set directly under [auth])")
    redirect = urlparse(str(auth["redirect_uri"]))
    local = redirect.hostname in ("localhost", "127.0.0.1")
    if redirect.path != "/oauth2callback" or (local and redirect.port != port):
        raise LaunchError(f"{path}: redirect_uri must end in /oauth2callback and, on this machine, use "
                          f"the dashboard's port (http://localhost:{port}/oauth2callback), "
                          f"not {auth['redirect_uri']}")


def server_command(db, engine_name: str, port: int, secrets=None) -> tuple[list[str], dict]:
    """The Streamlit command line and environment that serve the dashboard on this store."""
    require_store(engine_name, db)
    if secrets:
        check_login_secrets(Path(secrets), port)
    location = str(Path(db).resolve()) if db else ""
    env = child_environment(db=location, engine=engine_name)
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port), *SERVER_FLAGS]
    if secrets:
        command += ["--secrets.files", str(Path(secrets).resolve())]
    return command, env


def serve(db, engine_name: str, port: int, secrets=None) -> int:
    """Serve the dashboard until stopped, as this very process (see the module docstring).

    Where a process cannot be replaced (Windows), the server runs as a child instead; then
    this returns its exit code (0 after Ctrl+C).
    """
    command, env = server_command(db, engine_name, port, secrets)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execve(command[0], command, env)
        except OSError as exc:
            raise LaunchError(f"cannot start the dashboard server {command[0]}: {exc.strerror}") from exc
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
