"""The `opencall` command: serve, migrate, demo, createadmin, budget, tick, verify-audit, ledger verify, worker.

Errors end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

# Only called after `_django()`: gettext reads the settings, which are chosen by then.
from django.utils.translation import gettext as _

# `opencall` alone runs the production settings, safe to expose behind a TLS proxy; `--local` (what `make run`
# passes) asks for plain http on loopback, where the demo data is allowed (docs/decisions/0011).
DEFAULT_SETTINGS = "opencall.config.settings.production"
LOCAL_SETTINGS = "opencall.config.settings.local"
# How long the children of `opencall serve` get to stop after SIGTERM before their process groups are killed
# (OPENCALL_STOP_GRACE overrides it: keep it under a supervisor's own stop timeout).
STOP_GRACE_SECONDS = 10.0


class CliError(Exception):
    """A problem to report in one line.

    Raised after `_django()` its message is translated (gettext needs the settings); the few raised
    before it (bad settings, a non-loopback --local host, usage) stay in English.
    """


def _django(*, local: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", LOCAL_SETTINGS if local else DEFAULT_SETTINGS)
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        folders = (settings.VAR_DIR, settings.STATIC_ROOT, settings.MEDIA_ROOT)
    except ImproperlyConfigured as exc:  # a missing or weak secret, a key file others can read
        raise CliError(str(exc)) from exc
    if local and not getattr(settings, "OPENCALL_LOCAL", False):
        module = os.environ["DJANGO_SETTINGS_MODULE"]
        raise CliError(f"--local needs local settings, not DJANGO_SETTINGS_MODULE={module}")
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def _call(name: str, *args: str, **options: Any) -> None:
    from django.core.management import call_command

    call_command(name, *args, **options)


def cmd_migrate(args: argparse.Namespace) -> int:
    _django()
    _call("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _django(local=args.local)
    from opencall.demodata import load_demo, refuse_unless_allowed

    refuse_unless_allowed()
    _call("migrate", interactive=False, verbosity=0)
    counts = load_demo(seed=args.seed)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _echo(line: str) -> None:
    print(line, flush=True)


def _prepare_data(args: argparse.Namespace) -> None:
    """Migrate; load the demo data when asked; refuse to serve the demo's accounts under production settings."""
    from django.conf import settings

    from opencall.demodata import demo_loaded, load_demo, published_accounts, refuse_unless_allowed

    if args.demo:
        refuse_unless_allowed()
    _call("migrate", interactive=False, verbosity=0)
    if args.demo:
        if not demo_loaded():
            _echo("Loading the demo data…")
        load_demo(echo=_echo)
    elif not settings.OPENCALL_DEMO_DATA_ALLOWED:
        exposed = published_accounts()
        if exposed:
            raise CliError(
                _("this database holds %(count)s demo accounts whose password is published (%(first)s, …): "
                  "serve it in local mode (opencall serve --local), or give this installation its own data folder "
                  "(OPENCALL_VAR_DIR or DATABASE_URL)") % {"count": len(exposed), "first": exposed[0]}
            )


def _announce(args: argparse.Namespace) -> None:
    from django.conf import settings

    url = _url(args.host, args.port)
    if settings.OPENCALL_LOCAL:
        _echo(f"Opencall is serving on {url}/ in local mode: plain http, for this machine only (Ctrl+C stops it).")
        return
    key_file = settings.OPENCALL_SECRET_KEY_FILE
    _echo(
        f"Opencall is serving on {url}/ with production settings (Ctrl+C stops it).\n"
        "  It expects a TLS proxy in front: plain-http requests are redirected to https; the proxy sets\n"
        f"  X-Forwarded-Proto and routes /live/api/ to port {args.port + 1}; ALLOWED_HOSTS (now "
        f"{','.join(settings.ALLOWED_HOSTS)}) and CSRF_TRUSTED_ORIGINS name the site's address.\n"
        + (f"  Signing key: {key_file} (made for this installation; SECRET_KEY overrides it).\n" if key_file else "")
        + "  To try Opencall on this machine over plain http with the demo data: make run "
        "(opencall serve --local --demo)."
    )


class _Stop(Exception):
    """SIGTERM or SIGINT reached `opencall serve`."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    # Each child leads a process group of its own, so stopping it reaches whatever it started in turn
    # (granian's workers, an autoreloader's child), and a Ctrl+C in the terminal reaches only us: we stop
    # the children in order and within a bound, instead of each reacting on its own.
    return subprocess.Popen(argv, process_group=0)  # noqa: S603 - our own argv, no shell


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the id went to a process that is not ours: our group is gone
        return False
    return True


def _stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every child's process group, wait up to the grace period for them to empty, then SIGKILL."""
    grace = float(os.environ.get("OPENCALL_STOP_GRACE", STOP_GRACE_SECONDS))
    groups = [proc.pid for proc in procs]
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = groups
    while True:
        for proc in procs:
            proc.poll()  # reap the leaders, or a zombie leader would keep its group alive
        alive = [pgid for pgid in alive if _group_alive(pgid)]
        if not alive or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    for pgid in alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.local and not _is_loopback(args.host):
        raise CliError(f"--local serves plain http to this machine only: use a loopback --host, not {args.host}")
    _django(local=args.local)
    from django.conf import settings

    _prepare_data(args)
    children: list[subprocess.Popen[bytes]] = []
    live_port = args.port + 1
    if args.live and settings.OPENCALL_LOCAL:
        # The live-vote fast path is its own small ASGI server (DESIGN: buffer, group commit, ack). Locally the
        # pages learn its address and it accepts their origin; in production the proxy routes /live/api/ to it
        # on the site's own origin.
        os.environ.setdefault("OPENCALL_LIVE_URL", _url(args.host, live_port))
        origins = {_url(args.host, args.port), f"http://localhost:{args.port}", f"http://127.0.0.1:{args.port}"}
        os.environ.setdefault("OPENCALL_LIVE_ALLOWED_ORIGINS", ",".join(sorted(origins)))
    granian = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", args.host, "--port", str(args.port),
        "--workers", str(args.workers), "--blocking-threads", str(args.threads), "--no-ws",
        "opencall.config.wsgi:application",
    ]
    # A supervisor stops us with SIGTERM, whose default action would skip `finally` and leave the children
    # running: both signals become an exception that ends the wait below.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    code = 0
    try:
        if args.live:
            children.append(_spawn([sys.executable, "-m", "opencall", "live-serve", "--host", args.host,
                                    "--port", str(live_port), "--workers", "1"]))
        if args.worker:
            children.append(_spawn([sys.executable, "-m", "django", "db_worker", "--interval", "2", "--no-reload"]))
        server = _spawn(granian)
        children.insert(0, server)
        _announce(args)
        code = server.wait()
    except _Stop:
        code = 0
    finally:
        # A second signal while the children stop must not cut the stopping short; it is bounded anyway.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        _stop(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def cmd_check(args: argparse.Namespace) -> int:
    _django(local=args.local)
    from django.core.management.base import SystemCheckError

    try:
        _call("check", deploy=args.deploy, fail_level="WARNING")
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_live_serve(args: argparse.Namespace) -> int:
    _django()
    from opencall.voting.fastpath import serve_fastpath

    serve_fastpath(host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _django()
    # Never the autoreloader (its default under DEBUG): its child outlives a SIGTERM sent to the parent.
    _call("db_worker", reload=False)
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _django()
    from opencall.accounts.actions import check_new_administrator, create_administrator

    email = check_new_administrator(email=args.email or input("Email: "))
    password = args.password or os.environ.get("OPENCALL_ADMIN_PASSWORD", "")
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    create_administrator(email=email, password=password, display_name=args.name or "Administrator")
    print(f"Created administrator {email}")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    _django()
    from opencall.challenges.tasks import advance_all_due_phases

    moved = advance_all_due_phases.call()
    print(f"Advanced {moved} challenge(s) whose phase had ended.")
    return 0


def cmd_verify_audit(args: argparse.Namespace) -> int:
    _django()
    from opencall.core.audit import verify_chain

    ok, checked, broken = verify_chain()
    if not ok:
        raise CliError(_("audit chain broken at event #%(event)s (after %(checked)s good events)")
                       % {"event": broken, "checked": checked})
    print(f"Audit chain intact: {checked} events.")
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    _django()
    from opencall.ledger.verify import verify_ledger

    report = verify_ledger()
    for problem in report.problems:
        print(problem)
    if report.problems:
        print(f"Ledger verify: {len(report.problems)} problem(s).", file=sys.stderr)
        return 1
    print(f"Ledger consistent: {report.transactions} transactions, {report.entries} entries, "
          f"{report.accounts} balances, {report.audit_events} audit events.")
    return 0


def cmd_budget(args: argparse.Namespace, rest: Sequence[str]) -> int:
    if rest and rest[0] == "run":
        from opencall.cli_budget import main as budget_main

        return budget_main(list(rest))
    if rest and rest[0] == "export":
        _django()
        from opencall.funding.cli import export_command

        return export_command(list(rest[1:]))
    raise CliError("usage: opencall budget {run FILE.pb --rule RULE [--json] | export CHALLENGE}")


def cmd_recount(args: argparse.Namespace) -> int:
    _django()
    from opencall.funding.cli import recount_command

    return recount_command([args.challenge])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opencall", description="Opencall: open innovation, decided fairly.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="migrate and serve on granian: production settings behind a TLS proxy, or --local"
    )
    serve.add_argument("--host", default=os.environ.get("OPENCALL_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("OPENCALL_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--threads", type=int, default=2, help="granian blocking threads per worker")
    serve.add_argument("--local", action="store_true", help="plain http on loopback, for a try-out on this machine")
    serve.add_argument("--demo", action=argparse.BooleanOptionalAction, default=False,
                       help="load the demo data unless it is there already (local mode only)")
    serve.add_argument("--no-worker", dest="worker", action="store_false", help="do not start the job worker")
    serve.add_argument("--no-live", dest="live", action="store_false",
                       help="do not start the live-vote fast path (on --port + 1)")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="create or update the database schema")
    migrate.add_argument("-v", "--verbose", action="store_true")
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load the demo data set")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--local", action="store_true", help="with the local settings, where the demo is allowed")
    demo.set_defaults(func=cmd_demo)

    admin = sub.add_parser("createadmin", help="create an administrator account")
    admin.add_argument("--email")
    admin.add_argument("--password", help="or OPENCALL_ADMIN_PASSWORD; asked if absent")
    admin.add_argument("--name")
    admin.set_defaults(func=cmd_createadmin)

    check = sub.add_parser("check", help="Django's system checks; --deploy for production settings")
    check.add_argument("--deploy", action="store_true")
    check.add_argument("--local", action="store_true", help="check the local settings instead")
    check.set_defaults(func=cmd_check)

    live = sub.add_parser("live-serve", help="serve the live-vote fast path (ASGI, group commit)")
    live.add_argument("--host", default="127.0.0.1")
    live.add_argument("--port", type=int, default=8001)
    live.add_argument("--workers", type=int, default=2)
    live.set_defaults(func=cmd_live_serve)

    sub.add_parser("worker", help="run the background job worker").set_defaults(func=cmd_worker)
    sub.add_parser("tick", help="advance every challenge whose phase has ended").set_defaults(func=cmd_tick)
    sub.add_parser("verify-audit", help="recompute the audit hash chain").set_defaults(func=cmd_verify_audit)
    ledger = sub.add_parser("ledger", help="the money ledger")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_sub.add_parser(
        "verify", help="recompute every balance, sum and fingerprint from the entries; check the audit chain"
    ).set_defaults(func=cmd_ledger_verify)
    rec = sub.add_parser("recount", help="recompute a challenge's published allocation from its ballots")
    rec.add_argument("challenge", help="the challenge's slug")
    rec.set_defaults(func=cmd_recount)
    sub.add_parser("budget", help="participatory budgeting: run a rule on a .pb file, export ballots",
                   add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if argv and argv[0] == "budget":
            return cmd_budget(argparse.Namespace(), argv[1:])
        args = parser.parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except CliError as exc:
        print(f"opencall: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from opencall.core.errors import DomainError

        if isinstance(exc, DomainError):
            print(f"opencall: error: {exc.detail}", file=sys.stderr)
            return 2
        if os.environ.get("OPENCALL_DEBUG"):
            raise
        print(f"opencall: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
