"""The live-vote fast path's entry point: the ASGI app of one worker process, and `serve_fastpath`.

    granian --interface asgi --workers 2 opencall.voting.fastpath:app

The fast path itself lives in `opencall.voting.live` (its module docstring maps it); this module
only makes the app, as config/asgi.py does for the pages.
"""

from __future__ import annotations

import os

from opencall.voting.live.http import LiveApp

# As config/wsgi.py and config/asgi.py: a process started on this module without Django settings
# named runs with the production ones. (Configuration itself is read from settings, never here.)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opencall.config.settings.production")

__all__ = ["LiveApp", "app", "serve_fastpath"]

app = LiveApp()


def serve_fastpath(host: str = "127.0.0.1", port: int = 8001, workers: int = 2) -> None:
    """Run the fast path under granian (blocks). Pages are served separately, over WSGI."""
    import importlib.util

    from granian import Granian
    from granian.constants import Interfaces, Loops

    # uvloop makes the many small wake-ups of a parked vote much cheaper (measured: about 40% less
    # CPU per vote); it is optional.
    loop = Loops.uvloop if importlib.util.find_spec("uvloop") else Loops.asyncio
    Granian(
        "opencall.voting.fastpath:app",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        loop=loop,
        log_access=False,
        backlog=2048,
    ).serve()
