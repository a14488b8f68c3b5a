"""Development on this machine (`python -m django runserver`): local mode with DEBUG on unless DEBUG=0.

The signing key is the installation's own, as everywhere but in the tests: no key is written in the source.
"""

from .base import env_bool
from .local import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
