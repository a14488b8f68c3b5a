"""Send an uploaded file to someone a gate has already let through, never by its storage path.

Covers and attachments are only reachable through views that first ask the owning app's read gate;
this module builds the answer after that: a content type from a fixed allow-list, headers that stop
a browser from running or sniffing the bytes, conditional GET, and who sends the bytes (Python, the
front web server through X-Accel-Redirect / X-Sendfile, or a short-lived signed URL of a remote
storage). See docs/decisions/0007-media-serving.md.
"""

from __future__ import annotations

import hashlib
import inspect
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date
from django.utils.translation import gettext as _

from opencall.core.errors import NotFound

# Images a browser may show inline. SVG is deliberately absent: it is a document that runs scripts.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Everything an upload may be sent as; anything else goes out as opaque bytes, to be saved, not shown.
SAFE_TYPES = INLINE_TYPES | frozenset({
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/plain",
    "text/markdown",
    "text/csv",
})
OPAQUE = "application/octet-stream"
MODES = ("", "x-accel-redirect", "x-sendfile", "signed-url")
# A shared cache may keep a public cover this long after its challenge stops being public.
PUBLIC_MAX_AGE = 300


def _stat(storage: Storage, name: str) -> tuple[int, datetime | None]:
    """Size and modification time, or NotFound when the file is gone (same answer as a hidden one)."""
    try:
        size = storage.size(name)
    except (OSError, ValueError) as exc:  # FileNotFoundError on disk; remote storages vary
        raise NotFound(_("No such file.")) from exc
    try:
        modified: datetime | None = storage.get_modified_time(name)
    except (NotImplementedError, OSError, ValueError):
        modified = None
    return size, modified


def _local_path(storage: Storage, name: str) -> str | None:
    try:
        return storage.path(name)
    except NotImplementedError:  # remote storages have no file on this machine
        return None


def _signed_url(storage: Storage, name: str, content_type: str, disposition: str) -> str:
    """A short-lived URL of a remote storage that answers with our type and disposition."""
    seconds: int = settings.OPENCALL_MEDIA_SIGNED_URL_SECONDS
    accepts = inspect.signature(storage.url).parameters
    kwargs: dict[str, Any] = {}
    # django-storages' S3 and Google storages take these; others sign with their own defaults.
    if "expire" in accepts:
        kwargs["expire"] = seconds
    if "parameters" in accepts:
        kwargs["parameters"] = {"ResponseContentType": content_type, "ResponseContentDisposition": disposition}
    return storage.url(name, **kwargs)


def upload_response(request: HttpRequest, file: FieldFile, *, content_type: str, filename: str,
                    inline: bool = False, public: bool = False) -> HttpResponseBase:
    """The file in `file` for a viewer the caller's gate has already admitted.

    `inline` is honoured only for the image types in INLINE_TYPES; everything else is sent as an
    attachment. `public` allows shared caches to keep it (only for what a signed-out visitor sees).
    """
    if not file:
        raise NotFound(_("No such file."))
    mode: str = settings.OPENCALL_MEDIA_ACCEL
    if mode not in MODES:
        raise ImproperlyConfigured(f"OPENCALL_MEDIA_ACCEL must be one of {MODES}, not {mode!r}.")
    storage, name = file.storage, file.name or ""
    size, modified = _stat(storage, name)

    kind = content_type if content_type in SAFE_TYPES else OPAQUE
    as_attachment = not (inline and kind in INLINE_TYPES)
    disposition = content_disposition_header(as_attachment, filename) or "attachment"
    digest = hashlib.sha256(f"{name}\0{size}\0{modified.timestamp() if modified else ''}".encode()).hexdigest()
    headers = {
        "Content-Type": kind,
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        # Opened directly, an upload is a document of its own: no scripts, no plugins, no same-origin.
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        # Other sites may embed what anyone may see; nothing private loads into another origin's page.
        "Cross-Origin-Resource-Policy": "cross-origin" if public else "same-origin",
        # `no-cache` makes the browser ask again (cheaply, with the ETag) so a lost right takes effect at once.
        "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}" if public else "private, no-cache",
        "ETag": f'"{digest[:32]}"',
    }
    if modified is not None:
        headers["Last-Modified"] = http_date(modified.timestamp())

    response: HttpResponseBase | None = get_conditional_response(
        request, etag=headers["ETag"], last_modified=int(modified.timestamp()) if modified else None)
    if response is not None:  # 304 Not Modified or 412 Precondition Failed
        for key in ("Cache-Control", "ETag", "Last-Modified", "X-Content-Type-Options"):
            if key in headers:
                response[key] = headers[key]
        return response

    path = _local_path(storage, name)
    if mode == "signed-url" and path is None:
        response = HttpResponseRedirect(_signed_url(storage, name, kind, disposition))
        # The redirect itself grants access for a while: never let anything keep it.
        response["Cache-Control"] = "private, no-store"
        return response
    if mode == "x-accel-redirect":
        # nginx serves the file from an `internal` location; it keeps Content-Type, Content-Disposition
        # and Cache-Control from this response but not the others (the location adds them).
        response = HttpResponse()
        response["X-Accel-Redirect"] = settings.OPENCALL_MEDIA_ACCEL_PREFIX.rstrip("/") + "/" + quote(name)
    elif mode == "x-sendfile" and path is not None:
        response = HttpResponse()
        response["X-Sendfile"] = path
    elif request.method == "HEAD":
        response = HttpResponse()
        response["Content-Length"] = str(size)
    else:
        try:
            handle = storage.open(name, "rb")
        except (OSError, ValueError) as exc:
            raise NotFound(_("No such file.")) from exc
        response = FileResponse(handle)
        response["Content-Length"] = str(size)
    for key, value in headers.items():
        response[key] = value
    return response
