"""Local development: `make run`. SQLite under ./var, debug on, console email."""

from .base import *  # noqa: F403
from .base import SECRET_KEY as _SECRET_KEY
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = _SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"
