"""Issue 13, findings 3 and 4 and the SIGTERM item of 8: what `opencall serve` does when nobody configures it.

The server tests start the real command in a subprocess, on loopback ports of this file's own, against a
data folder of their own (a copy of the migrated, empty test database), as a user would after cloning.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from opencall.core.errors import PermissionDenied
from opencall.demodata import load_demo
from opencall.demodata.loader import MARKER_SLUG
from opencall.demodata.people import ADMIN_EMAIL, DEMO_PASSWORD, ORGANISER_EMAIL
from opencall.voting.tokens import issue_token, read_token, signing_key
from tests.factories import OrganisationFactory, UserFactory

PUBLISHED_DEV_KEY = "dev-only-insecure-key-do-not-use-in-production"  # the dev settings' old fallback


def _free_port_pair() -> int:
    """A loopback port that is free with the one after it (the live-vote fast path's), picked per test
    process, so parallel runs of this file never meet on one port."""
    import socket

    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two free loopback ports in a row")


SERVE_PORT = _free_port_pair()  # and SERVE_PORT + 1 for its live-vote fast path
SIGTERM_PORT = next(p for p in iter(_free_port_pair, 0) if abs(p - SERVE_PORT) > 1)  # and SIGTERM_PORT + 1
START_SECONDS = 120  # an upper bound for a two-core machine shared by many; an idle one answers in seconds
needs_sqlite_file = pytest.mark.skipif(
    bool(os.environ.get("OPENCALL_TEST_POSTGRES")),
    reason="the servers run on a copy of the SQLite test database; the SQLite run covers them",
)


def _env(var_dir: Path) -> dict[str, str]:
    """The environment of someone who cloned the repository and configured nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCALL_", "DJANGO_"))}
    for name in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        env.pop(name, None)
    env["OPENCALL_VAR_DIR"] = str(var_dir)
    env["LOG_LEVEL"] = "ERROR"
    return env


def _opencall(var_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own argv
        [sys.executable, "-m", "opencall", *args],
        env=_env(var_dir),
        cwd=var_dir.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


SETTINGS_MODULES = ("production", "local", "dev")
_READ_SETTINGS = """
import importlib, json, sys
values = {}
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.startswith("opencall.config.settings")]:
        del sys.modules[loaded]  # each module evaluated afresh, as in a process of its own
    module = importlib.import_module("opencall.config.settings." + name)
    values[name] = {"SECRET_KEY": module.SECRET_KEY, "DEBUG": module.DEBUG}
print(json.dumps(values))
"""


@pytest.fixture(scope="module")
def settings_values(tmp_path_factory) -> tuple[Path, dict[str, dict[str, object]]]:
    """The values the settings modules take where nothing is configured (SECRET_KEY and DEBUG unset)."""
    var_dir = tmp_path_factory.mktemp("settings") / "var"
    out = subprocess.run(  # noqa: S603 - our own argv
        [sys.executable, "-c", _READ_SETTINGS, *SETTINGS_MODULES],
        env=_env(var_dir), cwd=var_dir.parent, capture_output=True, text=True, timeout=60, check=True,
    )
    return var_dir, json.loads(out.stdout)


@pytest.fixture(scope="module")
def empty_database(django_db_setup, tmp_path_factory) -> Path:
    """A consistent copy of the migrated test database, before any test writes to it."""
    from django.conf import settings

    copy = tmp_path_factory.mktemp("migrated") / "opencall.sqlite3"
    with sqlite3.connect(settings.DATABASES["default"]["NAME"]) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def _data_folder(tmp_path: Path, empty_database: Path) -> Path:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "opencall.sqlite3").write_bytes(empty_database.read_bytes())
    return var_dir


# Processes, read from /proc (psutil is not installed) --------------------------------------------------


def _stat(pid: int) -> tuple[str, int, int, str] | None:
    """(state, parent pid, process group, start time) of a running process, None if it is gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw.rpartition(")")[2].split()
    state, ppid, pgrp, start = fields[0], int(fields[1]), int(fields[2]), fields[19]
    return None if state in ("Z", "X") else (state, ppid, pgrp, start)


def _ours(var_dir: Path) -> list[int]:
    """Every running process started for the data folder `var_dir`, wherever it was re-parented: its
    environment (as it was at exec) names the folder, and only this test's processes use that folder."""
    marker = f"OPENCALL_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in (entry / "environ").read_bytes().split(b"\0") and _stat(int(entry.name)):
                    found.append(int(entry.name))
    return sorted(found)


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def _kill_all(var_dir: Path) -> None:
    for pid in _ours(var_dir):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _get(url: str, **headers: str) -> tuple[int, Message, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback http only
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Served:
    url: str
    var_dir: Path
    proc: subprocess.Popen[str]
    log: Path


@contextlib.contextmanager
def _serve(var_dir: Path, port: int, *args: str, extra: dict[str, str] | None = None) -> Iterator[Served]:
    log = var_dir.parent / f"serve-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own argv
            [sys.executable, "-m", "opencall", "serve", "--port", str(port), *args],
            env=_env(var_dir) | (extra or {}),
            cwd=var_dir.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"opencall serve exited with {proc.returncode}:\n{log.read_text()}")
            with contextlib.suppress(OSError):
                _get(url + "/static/opencall/site.css")
                break
            if time.monotonic() > deadline:
                pytest.fail(f"opencall serve did not answer within {START_SECONDS} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield Served(url, var_dir, proc, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        _kill_all(var_dir)
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def served(empty_database, tmp_path_factory) -> Iterator[Served]:
    """`opencall serve` with nothing configured and no option, on an empty migrated database."""
    var_dir = _data_folder(tmp_path_factory.mktemp("served"), empty_database)
    with _serve(var_dir, SERVE_PORT) as server:
        yield server


HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front sets


# Finding 3: the demo data --------------------------------------------------------------------------------


@needs_sqlite_file
def test_serve_alone_never_loads_the_demo_data(served):
    with sqlite3.connect(served.var_dir / "opencall.sqlite3") as db:
        users = db.execute("SELECT email FROM accounts_user").fetchall()
        demo_orgs = db.execute("SELECT count(*) FROM organisations_organisation WHERE slug = ?", [MARKER_SLUG])
        assert (users, demo_orgs.fetchone()) == ([], (0,))
    assert "demo" not in served.log.read_text().split("To try Opencall on this machine")[0].lower()


@needs_sqlite_file
def test_demo_data_is_refused_under_production_settings(tmp_path, empty_database):
    var_dir = _data_folder(tmp_path, empty_database)
    from opencall.demodata.loader import REFUSED

    for args in (["demo"], ["serve", "--demo", "--port", str(SIGTERM_PORT)]):
        result = _opencall(var_dir, *args)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", f"opencall: error: {REFUSED}\n")
    with sqlite3.connect(var_dir / "opencall.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM accounts_user").fetchone() == (0,)


@needs_sqlite_file
def test_production_serve_refuses_a_database_holding_demo_accounts(tmp_path, empty_database):
    var_dir = _data_folder(tmp_path, empty_database)
    create = (
        "import django; django.setup(); from opencall.accounts.models import User; "
        f"User.objects.create_superuser({ADMIN_EMAIL!r}, {DEMO_PASSWORD!r}, display_name='Admin')"
    )
    env = _env(var_dir) | {"DJANGO_SETTINGS_MODULE": "opencall.config.settings.production"}
    subprocess.run([sys.executable, "-c", create], env=env, cwd=tmp_path, check=True, timeout=60)  # noqa: S603
    result = _opencall(var_dir, "serve", "--port", str(SIGTERM_PORT))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"opencall: error: this database holds 1 demo accounts whose password is published ({ADMIN_EMAIL}, …): "
        "serve it in local mode (opencall serve --local), or give this installation its own data folder "
        "(OPENCALL_VAR_DIR or DATABASE_URL)\n"
    )


@pytest.mark.django_db
def test_load_demo_refuses_settings_that_do_not_allow_it():
    from opencall.demodata.loader import REFUSED

    with override_settings(OPENCALL_DEMO_DATA_ALLOWED=False), pytest.raises(PermissionDenied) as refused:
        load_demo()
    assert refused.value.detail == REFUSED


@pytest.mark.django_db
def test_published_accounts_are_those_still_on_the_demo_password():
    from opencall.demodata import published_accounts

    admin = UserFactory(email=ADMIN_EMAIL, password=DEMO_PASSWORD)
    UserFactory(email=ORGANISER_EMAIL, password="a-password-of-their-own")
    UserFactory(email="someone@example.org", password=DEMO_PASSWORD)  # not a demo address
    assert published_accounts() == [ADMIN_EMAIL]
    admin.set_password("changed-since")
    admin.save()
    assert published_accounts() == []


DEMO_NOTICE = (
    "This site holds Opencall's demo data. Its people are fictitious and their password, "
    "<code>opencall-demo</code>, is published: try things with them, never real work."
)


@pytest.mark.django_db
def test_sign_in_page_names_the_demo_accounts_only_when_the_demo_is_loaded(client):
    page = client.get("/accounts/login/").content.decode()
    assert "Demo accounts" not in page and "opencall-demo" not in page
    OrganisationFactory(slug=MARKER_SLUG, name="Northwind Retail Group")
    page = client.get("/accounts/login/").content.decode()
    assert DEMO_NOTICE in page
    assert f"Demo organiser: <code>{ORGANISER_EMAIL}</code>" in page
    assert f"Demo site administrator: <code>{ADMIN_EMAIL}</code>" in page


# Finding 4: insecure defaults ----------------------------------------------------------------------------


@needs_sqlite_file
def test_serve_default_has_debug_off_no_technical_pages(served):
    status, _, body = _get(served.url + "/no-such-page/", **HTTPS)
    assert status == 404
    assert "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>" in body
    assert "URLconf" not in body and "accounts/" not in body
    # A Host outside ALLOWED_HOSTS raises inside Django: with DEBUG on this is a technical page with a traceback.
    status, _, body = _get(served.url + "/", Host="attacker.example", **HTTPS)
    assert status == 400
    assert "<h1>Bad Request (400)</h1>" in body and "DisallowedHost" not in body and "ALLOWED_HOSTS" not in body
    # Plain http goes to https (the TLS proxy's job), as the start-up lines say.
    status, headers, _ = _get(served.url + "/challenges/")
    assert (status, headers["Location"]) == (301, f"https://127.0.0.1:{SERVE_PORT}/challenges/")
    assert "It expects a TLS proxy in front: plain-http requests are redirected to https" in served.log.read_text()
    status, headers, body = _get(served.url + "/", **HTTPS)
    assert status == 200 and "<title>" in body
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@needs_sqlite_file
def test_static_files_are_served_without_debug(served):
    sources = Path(__file__).resolve().parents[2] / "src" / "opencall" / "static"
    for path, kind in (
        ("opencall/site.css", "text/css"),
        ("vendor/pico-2.1.1.min.css", "text/css"),
        ("vendor/htmx-2.0.11.min.js", "text/javascript"),
    ):
        status, headers, body = _get(f"{served.url}/static/{path}", **HTTPS)
        assert (status, headers["Content-Type"].split(";")[0]) == (200, kind)
        assert body == (sources / path).read_text()


@needs_sqlite_file
def test_serve_default_keeps_its_own_key_owner_only(served):
    key_file = served.var_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 50 and key != PUBLISHED_DEV_KEY
    assert f"Signing key: {key_file} (made for this installation; SECRET_KEY overrides it)." in served.log.read_text()


def test_installation_key_is_made_once_private_and_differs_between_installations(tmp_path):
    from opencall.config.settings.installation import installation_key

    first, second = tmp_path / "one", tmp_path / "two"
    key = installation_key(first)
    assert stat.S_IMODE((first / "secret_key").stat().st_mode) == 0o600
    assert installation_key(first) == key  # stable across runs
    assert installation_key(second) != key  # each installation its own
    assert len(key) >= 50 and len(set(key)) >= 20
    (first / "secret_key").chmod(0o644)
    with pytest.raises(ImproperlyConfigured, match=r"is readable by other users \(mode 644\)"):
        installation_key(first)


def test_published_and_weak_keys_are_refused():
    from opencall.config.settings.installation import checked_key

    with pytest.raises(ImproperlyConfigured, match="published in Opencall's source"):
        checked_key(PUBLISHED_DEV_KEY, "SECRET_KEY")
    with pytest.raises(ImproperlyConfigured, match="random string of 50"):
        checked_key("x" * 60, "SECRET_KEY")


def test_no_settings_fall_back_to_a_published_key(settings_values):
    var_dir, values = settings_values
    key = (var_dir / "secret_key").read_text().strip()
    assert {name: v["SECRET_KEY"] for name, v in values.items()} == dict.fromkeys(SETTINGS_MODULES, key)
    assert key != PUBLISHED_DEV_KEY


def test_device_token_signed_with_the_published_dev_key_is_refused(settings_values):
    from opencall.cli import DEFAULT_SETTINGS

    _, values = settings_values
    key = signing_key(str(values[DEFAULT_SETTINGS.rpartition(".")[2]]["SECRET_KEY"]))
    forged = issue_token(signing_key(PUBLISHED_DEV_KEY), 41, user_id=7)
    assert read_token(key, forged) is None
    assert read_token(key, issue_token(key, 41, user_id=7)) == (41, "u7", 7)


def test_debug_is_off_unless_asked_for(settings_values):
    from opencall.cli import DEFAULT_SETTINGS, LOCAL_SETTINGS

    _, values = settings_values
    debug = {name: v["DEBUG"] for name, v in values.items()}
    # `opencall serve` and `make run` (local) never debug unless DEBUG=1; the developers' module does.
    assert (DEFAULT_SETTINGS, LOCAL_SETTINGS) == ("opencall.config.settings.production", "opencall.config.settings.local")
    assert debug == {"production": False, "local": False, "dev": True}


# Finding 8: SIGTERM leaves nothing behind ----------------------------------------------------------------


# Loaded into the job worker through PYTHONPATH: a child of the worker that shrugs off SIGTERM and SIGINT, as
# the autoreloader's child did when the worker's signal caught it mid-spawn, or a subprocess a job starts.
STUBBORN_CHILD = """
import os, signal, time
if b"db_worker" in open("/proc/self/cmdline", "rb").read() and os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    time.sleep(120)  # ends by itself should everything else fail
    os._exit(0)
"""


@needs_sqlite_file
def test_sigterm_stops_the_server_the_fast_path_and_the_worker_with_their_children(tmp_path, empty_database):
    var_dir = _data_folder(tmp_path, empty_database)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(STUBBORN_CHILD)
    extra = {"PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
             "OPENCALL_STOP_GRACE": "2"}
    # --no-demo is the default now; it keeps this test meaningful against the old command, which loaded the demo.
    with _serve(var_dir, SIGTERM_PORT, "--no-demo", extra=extra) as server:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:  # the worker may still be starting when the pages answer
            commands = [_cmdline(pid) for pid in _ours(var_dir)]
            if sum("db_worker" in c for c in commands) >= 2:
                break
            time.sleep(0.2)
        assert sum("granian" in c for c in commands) >= 2  # the server and its worker
        assert sum("live-serve" in c for c in commands) >= 1 and sum("db_worker" in c for c in commands) >= 2
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=15)
        stopped = time.monotonic() - started
        deadline = time.monotonic() + 3  # time for the kernel to reap what was just killed
        while _ours(var_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [_cmdline(pid) for pid in _ours(var_dir)] == []
        assert server.proc.returncode == 0
        assert stopped < 10  # two seconds' grace, then SIGKILL
