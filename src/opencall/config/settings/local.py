"""Local mode (`make run`, `opencall serve --local`): plain http on this machine, the demo data allowed.

Everything else is production's: the installation's own signing key, DEBUG off unless DEBUG=1 asks for it.
Only what needs TLS is turned off, since nothing terminates TLS on a laptop; `opencall serve --local`
refuses to listen anywhere but on loopback, so these settings never face a network.
"""

from .base import env_bool
from .production import *  # noqa: F403

OPENCALL_LOCAL = True
OPENCALL_DEMO_DATA_ALLOWED = True
DEBUG = env_bool("DEBUG", False)
SECURE_SSL_REDIRECT = False
SECURE_PROXY_SSL_HEADER = None
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
