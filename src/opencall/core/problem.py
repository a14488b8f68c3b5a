"""RFC 9457 problem details."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse


def problem(status: int, title: str, detail: str, *, code: str, errors: dict[str, list[str]] | None = None,
            **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"type": f"https://opencall.dev/problems/{code}", "title": title, "status": status,
                            "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")
