"""The OpenAPI document is served, documents problem+json errors, and matches the committed snapshot.

After an intended API change, regenerate the snapshot and review its diff:
    OPENCALL_UPDATE_OPENAPI_SNAPSHOT=1 .venv/bin/python -m pytest tests/api/test_openapi.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
UPDATE = "OPENCALL_UPDATE_OPENAPI_SNAPSHOT"

pytestmark = pytest.mark.django_db


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_openapi_matches_the_snapshot(document):
    current = render(document)
    if os.environ.get(UPDATE) == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.exists(), f"No snapshot yet: run `{UPDATE}=1 .venv/bin/python -m pytest {__file__}`."
    expected = SNAPSHOT.read_text(encoding="utf-8")
    assert current == expected, (
        "The OpenAPI document changed. If the change is intended, regenerate the snapshot with "
        f"`{UPDATE}=1 .venv/bin/python -m pytest tests/api/test_openapi.py` and commit it."
    )


def test_every_operation_documents_problem_errors(document):
    assert document["info"] == {"title": "Opencall API", "version": "1", "description": document["info"]["description"]}
    assert document["components"]["securitySchemes"] == {
        "UserAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, `oc_…`. The web UI's session (with X-CSRFToken) works too.",
        }
    }
    for path, operations in document["paths"].items():
        assert path.startswith("/api/")
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("400", "403", "404", "409", "422"):
                assert responses[code]["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, f"{method.upper()} {path} {code}"
            assert ("401" in responses) == bool(operation.get("security")), f"{method.upper()} {path}"


def test_docs_page_is_served_with_vendored_assets(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert '"url": "/api/openapi.json"' in page
    assert "cdn" not in page
    assert 'data-csrf-token="' in page
    for name, kind in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("swagger-ui-init.js", "text/javascript"),
    ):
        assert f'"/api/docs/assets/{name}"' in page
        asset = client.get(f"/api/docs/assets/{name}")
        assert (asset.status_code, asset["Content-Type"]) == (200, kind)
        assert len(b"".join(asset.streaming_content)) > 1000


def test_docs_assets_are_whitelisted(client):
    response = client.get("/api/docs/assets/swagger-ui-bundle.js.map")
    assert (response.status_code, response["Content-Type"]) == (404, "application/problem+json")
    assert client.get("/api/docs/assets/..%2F..%2F__init__.py").status_code == 404
