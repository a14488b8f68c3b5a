"""The installation's own signing key, kept in its data folder. Not a settings module: the settings call it.

Every value Django and Opencall sign (sessions, password-reset links, CSRF tokens, live-vote device tokens)
is only as secret as SECRET_KEY. A key written in the source is published with it, so none is: either the
operator gives one (SECRET_KEY) or the installation makes its own, once, and keeps it beside its database
where only its owner can read it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE_NAME = "secret_key"
MIN_LENGTH = 50
# Keys that were once published in this repository: whatever signed with them can be forged by anyone.
PUBLISHED_KEYS = frozenset({"dev-only-insecure-key-do-not-use-in-production"})


def checked_key(key: str, origin: str) -> str:
    """`key` if it is long and random-looking enough to sign with; ImproperlyConfigured naming `origin` if not."""
    if key in PUBLISHED_KEYS:
        raise ImproperlyConfigured(f"{origin} holds a key published in Opencall's source; set a random one.")
    # The same bar as Django's security.W009: 50+ characters, 5+ distinct ones, not startproject's placeholder.
    if len(key) < MIN_LENGTH or len(set(key)) < 5 or key.startswith("django-insecure-"):
        raise ImproperlyConfigured(f"{origin} must be a random string of {MIN_LENGTH}+ characters.")
    return key


def installation_key(var_dir: Path) -> str:
    """The key in `var_dir`/secret_key, made on first use: 64 random bytes, readable by the owner only."""
    path = var_dir / KEY_FILE_NAME
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Like ssh with a private key: a key others could read may have leaked, so say so instead of using it.
        raise ImproperlyConfigured(f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`.")
    return checked_key(path.read_text(encoding="ascii").strip(), str(path))


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a private name, then linked into place: the server, its workers and the job worker
    # may start together, and none may read a half-written key or replace one another process already uses.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(64) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def secret_key(var_dir: Path) -> tuple[str, Path | None]:
    """The key to sign with and the file it came from (None when it came from SECRET_KEY)."""
    given = os.environ.get("SECRET_KEY", "")
    if given:
        return checked_key(given, "SECRET_KEY"), None
    return installation_key(var_dir), var_dir / KEY_FILE_NAME
