"""The `opencall` command: serve, migrate, demo, createadmin, budget, tick, verify-audit, worker.

Errors end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_SETTINGS = "opencall.config.settings.dev"


class CliError(Exception):
    """A problem to report in one line."""


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    from django.conf import settings

    for folder in (settings.VAR_DIR, settings.STATIC_ROOT, settings.MEDIA_ROOT):
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
    _django()
    _call("migrate", interactive=False, verbosity=0)
    from opencall.demodata import load_demo

    counts = load_demo(seed=args.seed)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


def _has_content() -> bool:
    from opencall.challenges.models import Challenge

    return Challenge.objects.exists()


def cmd_serve(args: argparse.Namespace) -> int:
    _django()
    _call("migrate", interactive=False, verbosity=0)
    if args.demo and not _has_content():
        from opencall.demodata import load_demo

        print("First run: loading the demo data…", flush=True)
        counts = load_demo()
        print("Demo data: " + ", ".join(f"{k}: {v}" for k, v in counts.items()), flush=True)
    children: list[subprocess.Popen[bytes]] = []
    if args.live:
        # The live-vote fast path is its own small ASGI server (DESIGN: buffer, group commit, ack);
        # the pages learn its address, and it accepts their origin.
        live_port = args.port + 1
        os.environ.setdefault("OPENCALL_LIVE_URL", f"http://{args.host}:{live_port}")
        origins = {f"http://{args.host}:{args.port}", f"http://localhost:{args.port}", f"http://127.0.0.1:{args.port}"}
        os.environ.setdefault("OPENCALL_LIVE_ALLOWED_ORIGINS", ",".join(sorted(origins)))
        children.append(subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "opencall", "live-serve", "--host", args.host, "--port", str(live_port),
             "--workers", "1"]))
    if args.worker:
        children.append(subprocess.Popen([sys.executable, "-m", "django", "db_worker", "--interval", "2"]))
    granian = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", args.host, "--port", str(args.port),
        "--workers", str(args.workers), "--blocking-threads", str(args.threads), "--no-ws",
        "opencall.config.wsgi:application",
    ]
    print(f"Opencall is serving on http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    # A supervisor stops us with SIGTERM, whose default action skips `finally`: turn it into an exit so
    # granian and the other children are stopped too instead of being left orphaned on the port.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    server = subprocess.Popen(granian)  # noqa: S603
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in [server, *children]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in [server, *children]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def cmd_check(args: argparse.Namespace) -> int:
    _django()
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
    _call("db_worker")
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _django()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from opencall.accounts.models import User

    email = (args.email or input("Email: ")).strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise CliError(f"not a valid email address: {email!r}") from exc
    if User.objects.filter(email=email).exists():
        raise CliError(f"an account with {email} exists already")
    password = args.password or os.environ.get("OPENCALL_ADMIN_PASSWORD", "")
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise CliError("password rejected: " + " ".join(exc.messages)) from exc
    from allauth.account.models import EmailAddress

    admin = User.objects.create_superuser(email, password, display_name=args.name or "Administrator",
                                          is_moderator=True)
    # The operator typed this address on the server: it counts as verified (sign-in requires that).
    EmailAddress.objects.create(user=admin, email=email, primary=True, verified=True)
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
        raise CliError(f"audit chain broken at event #{broken} (after {checked} good events)")
    print(f"Audit chain intact: {checked} events.")
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

    serve = sub.add_parser("serve", help="migrate, load demo data on first run, and serve on granian")
    serve.add_argument("--host", default=os.environ.get("OPENCALL_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("OPENCALL_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--threads", type=int, default=2, help="granian blocking threads per worker")
    serve.add_argument("--no-demo", dest="demo", action="store_false", help="do not load demo data on first run")
    serve.add_argument("--no-worker", dest="worker", action="store_false", help="do not start the job worker")
    serve.add_argument("--no-live", dest="live", action="store_false",
                       help="do not start the live-vote fast path (on --port + 1)")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="create or update the database schema")
    migrate.add_argument("-v", "--verbose", action="store_true")
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load the demo data set")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)

    admin = sub.add_parser("createadmin", help="create an administrator account")
    admin.add_argument("--email")
    admin.add_argument("--password", help="or OPENCALL_ADMIN_PASSWORD; asked if absent")
    admin.add_argument("--name")
    admin.set_defaults(func=cmd_createadmin)

    check = sub.add_parser("check", help="Django's system checks; --deploy for production settings")
    check.add_argument("--deploy", action="store_true")
    check.set_defaults(func=cmd_check)

    live = sub.add_parser("live-serve", help="serve the live-vote fast path (ASGI, group commit)")
    live.add_argument("--host", default="127.0.0.1")
    live.add_argument("--port", type=int, default=8001)
    live.add_argument("--workers", type=int, default=2)
    live.set_defaults(func=cmd_live_serve)

    sub.add_parser("worker", help="run the background job worker").set_defaults(func=cmd_worker)
    sub.add_parser("tick", help="advance every challenge whose phase has ended").set_defaults(func=cmd_tick)
    sub.add_parser("verify-audit", help="recompute the audit hash chain").set_defaults(func=cmd_verify_audit)
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
