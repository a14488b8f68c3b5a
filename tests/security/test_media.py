"""Issue 13, finding 1 (uploads served by their storage path) and the cover decompression bomb of finding 8.

Every upload goes through a view that asks the owning gate first: no `media/` URL serves a file, even
under DEBUG (the dev settings `opencall serve` used), whatever the path says (`..`, `%2e%2e`, ...).
"""

from __future__ import annotations

import http.client
import importlib
import io
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import clear_url_caches
from PIL import Image

from opencall.challenges.models import Challenge
from opencall.ideas.models import Attachment
from tests.conftest import client_for
from tests.factories import ChallengeFactory, IdeaFactory, UserFactory

SECRET = b"%PDF-1.4\n% Term sheet: EUR 2,000,000 for 18% of Mushroom Foam Ltd. CONFIDENTIAL\n%%EOF\n"
NOT_FOUND = b"No such file."


# Fixtures ------------------------------------------------------------------------------------


def png(size: tuple[int, int] = (12, 4), colour: tuple[int, int, int] = (10, 120, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A complete, valid 1-bit greyscale PNG of `width` x `height` black pixels, built cheaply.

    Each row is a filter byte and width/8 zero bytes; deflate packs 1000 such rows about 1000:1, and
    after a full flush the packed block is the same bytes every time, so it is made once and repeated.
    30000 x 30000 is ~110 kB on disk and 900 million pixels (several GB as RGBA) once decoded.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    blocks, rest = divmod(height, 1000)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the zlib frame is added below
    block = packer.compress(row * 1000) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.compress(row * rest) + packer.flush(zlib.Z_FINISH)
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(row * 1000, checksum)
    checksum = zlib.adler32(row * rest, checksum)
    body = b"\x78\xda" + block * blocks + tail + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_the_bomb_is_a_real_png():
    """The generator's output is what it claims: a PNG that a decoder unpacks row by row to the end."""
    data = png_bomb(2003, 1501)
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert (img.format, img.mode, img.size, img.getextrema()) == ("PNG", "1", (2003, 1501), (0, 0))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = png_bomb(30000, 30000)
    assert len(data) < 200_000  # a small upload, far under the 2 MB cover limit
    return data


@pytest.fixture
def term_sheet(idea) -> Attachment:
    """A confidential idea's attachment, stored where the storage puts attachments."""
    idea.confidential = True
    idea.save(update_fields=["confidential"])
    return Attachment.objects.create(idea=idea, file=ContentFile(SECRET, name="term-sheet.pdf"), name="term-sheet.pdf",
                                     size=len(SECRET), content_type="application/pdf")


@pytest.fixture
def public_cover(challenge) -> Challenge:
    """A public challenge with a cover, so that `media/covers/` exists as the issue's probe found it."""
    challenge.cover_image.save("green-packaging.png", ContentFile(png()), save=True)
    return challenge


@pytest.fixture
def internal_challenge(org) -> Challenge:
    challenge = ChallengeFactory(organisation=org, title="Shop-floor savings", slug="shop-floor", visibility="internal")
    challenge.cover_image.save("shop-floor.png", ContentFile(png(colour=(200, 30, 30))), save=True)
    return challenge


@pytest.fixture
def debug_urls() -> Iterator[None]:
    """The URLs as DEBUG=True builds them (the dev settings `opencall serve` ran with)."""
    import opencall.config.urls

    with override_settings(DEBUG=True):
        importlib.reload(opencall.config.urls)
        clear_url_caches()
        yield
    importlib.reload(opencall.config.urls)
    clear_url_caches()


# Raw request paths that reach the stored file `{stored}` if anything serves MEDIA_ROOT by its path.
TRAVERSALS = [
    "/media/{stored}",
    "/media/covers/../{stored}",
    "/media/covers/%2e%2e/{stored}",
    "/media/covers/%2E%2E/{stored}",
    "/media/covers/.%2e/{stored}",
    "/media/covers/..%2f{slashes}",
    "/media/covers%2f..%2f{stored}",
    "/media/covers/./../{stored}",
    "/media/covers//../{stored}",
    "/media/covers/2026/../../{stored}",
]


def traversals(stored: str) -> list[str]:
    return [t.format(stored=stored, slashes=stored.replace("/", "%2f")) for t in TRAVERSALS]


# Path traversal ------------------------------------------------------------------------------


@pytest.fixture
def raw_server(transactional_db) -> Iterator[tuple[str, int]]:
    """The site on a plain WSGI server on loopback. Not pytest-django's `live_server`: Django's test
    server serves MEDIA_URL from MEDIA_ROOT by itself, which no deployment does."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[0], server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_no_raw_media_path_returns_a_file(raw_server, debug_urls, term_sheet, public_cover):
    """Sent unnormalised on the wire (as `curl --path-as-is` does), no variant yields a byte of the file."""
    stored = term_sheet.file.name
    assert stored.startswith("attachments/")
    answers = []
    for raw in [*traversals(stored), f"/media/{public_cover.cover_image.name}"]:
        conn = http.client.HTTPConnection(*raw_server, timeout=10)
        conn.putrequest("GET", raw, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        conn.close()
        answers.append((raw, response.status, b"Term sheet" in body or body.startswith(b"\x89PNG")))
    assert answers == [(raw, 404, False) for raw, _, _ in answers]


@pytest.mark.parametrize("template", TRAVERSALS)
def test_no_media_path_through_the_test_client(debug_urls, term_sheet, public_cover, template):
    path = traversals(term_sheet.file.name)[TRAVERSALS.index(template)]
    response = Client().get(path)
    assert (response.status_code, SECRET in b"".join(getattr(response, "streaming_content", [response.content]))) == (
        404, False)


# Attachments: the idea's gate, and what the answer says -------------------------------------


def fetch(user, url: str, **headers: str):
    response = client_for(user).get(url, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_confidential_attachment_only_to_those_who_may_see_the_idea(
        term_sheet, visitor, participant, outsider, employee, moderator, team_member, organiser, judge):
    url = f"/attachments/{term_sheet.pk}/"
    refused = {}
    for name, user in [("visitor", visitor), ("participant", participant), ("outsider", outsider),
                       ("employee", employee), ("moderator", moderator)]:
        response, body = fetch(user, url)
        refused[name] = (response.status_code, SECRET in body, NOT_FOUND in body)
    assert refused == dict.fromkeys(refused, (404, False, True))
    # The same answer as for a file that does not exist: existence never leaks.
    missing, missing_body = fetch(participant, f"/attachments/{term_sheet.pk + 1000}/")
    hidden, hidden_body = fetch(participant, url)
    assert (missing.status_code, NOT_FOUND in missing_body) == (hidden.status_code, NOT_FOUND in hidden_body)

    for user in (team_member, organiser, judge):
        response, body = fetch(user, url)
        assert response.status_code == 200
        assert body == SECRET
        assert {k: response[k] for k in ("Content-Type", "Content-Disposition", "X-Content-Type-Options",
                                         "Cache-Control", "Content-Length")} == {
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="term-sheet.pdf"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
            "Content-Length": str(len(SECRET)),
        }


@pytest.mark.parametrize("visibility", ["internal", "invite_only"])
def test_attachment_of_a_closed_challenge(org, visitor, outsider, employee, visibility):
    invited = UserFactory(email="ines@example.org")
    challenge = ChallengeFactory(organisation=org, slug="closed", visibility=visibility)
    challenge.invited_users.add(invited)
    idea = IdeaFactory(challenge=challenge)
    content = b"row,total\n1,2\n"
    attachment = Attachment.objects.create(idea=idea, file=ContentFile(content, name="budget.csv"),
                                           name="budget.csv", size=len(content), content_type="text/csv")
    answers = {}
    for name, user in [("visitor", visitor), ("outsider", outsider), ("employee", employee), ("invited", invited)]:
        response, body = fetch(user, f"/attachments/{attachment.pk}/")
        answers[name] = "file" if body == content else (response.status_code, NOT_FOUND in body, content in body)
    refused = (404, True, False)
    assert answers == {
        "visitor": refused,
        "outsider": refused,
        "employee": "file",
        # an invitation opens an invite-only challenge, and means nothing to an internal one
        "invited": "file" if visibility == "invite_only" else refused,
    }


def test_an_upload_is_never_sent_as_a_page(idea, team_member):
    """Whatever a stored row claims, HTML or SVG goes out as opaque bytes to save, never rendered."""
    page = b"<html><script>alert(document.cookie)</script></html>"
    rows = [Attachment.objects.create(idea=idea, file=ContentFile(page, name=name), name=name, size=len(page),
                                      content_type=claimed)
            for name, claimed in [("notes.html", "text/html"), ("logo.svg", "image/svg+xml"),
                                  ("notes.txt", "text/html")]]
    answers = []
    for row in rows:
        response, body = fetch(team_member, f"/attachments/{row.pk}/")
        answers.append((response["Content-Type"], response["Content-Disposition"].split(";")[0],
                        response["X-Content-Type-Options"], body == page))
    assert answers == [
        ("application/octet-stream", "attachment", "nosniff", True),
        ("application/octet-stream", "attachment", "nosniff", True),
        ("text/plain", "attachment", "nosniff", True),
    ]


def test_head_and_conditional_get(term_sheet, organiser):
    url = f"/attachments/{term_sheet.pk}/"
    client = client_for(organiser)
    head = client.head(url)
    assert (head.status_code, head.content, head["Content-Length"], head["Content-Type"]) == (
        200, b"", str(len(SECRET)), "application/pdf")
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert (again.status_code, again.content, again["ETag"], again["Cache-Control"]) == (
        304, b"", first["ETag"], "private, no-cache")
    since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304


# Covers: the challenge's gate ----------------------------------------------------------------


def test_internal_cover_only_for_members(internal_challenge, visitor, outsider, participant, employee, organiser):
    url = internal_challenge.cover_url
    assert url.startswith("/challenges/shop-floor/cover/image?v=") and "covers/" not in url
    stored = internal_challenge.cover_image.open("rb").read()
    for user in (visitor, outsider, participant):
        response, body = fetch(user, url)
        assert (response.status_code, stored in body, NOT_FOUND in body) == (404, False, True)
    for user in (employee, organiser):
        response, body = fetch(user, url)
        assert (response.status_code, body) == (200, stored)
        assert {k: response[k] for k in ("Content-Type", "Content-Disposition", "X-Content-Type-Options",
                                         "Cache-Control", "Cross-Origin-Resource-Policy")} == {
            "Content-Type": "image/png",
            "Content-Disposition": 'inline; filename="shop-floor.png"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
            "Cross-Origin-Resource-Policy": "same-origin",
        }


def test_internal_cover_not_served_by_its_storage_path(debug_urls, internal_challenge, visitor):
    response, body = fetch(visitor, f"/media/{internal_challenge.cover_image.name}")
    assert (response.status_code, body.startswith(b"\x89PNG")) == (404, False)


@pytest.mark.parametrize("pointing_at", ["{name}", "covers/../{name}", "covers/2026/../../{name}"])
def test_a_cover_field_pointing_elsewhere_serves_nothing(public_cover, term_sheet, visitor, organiser, pointing_at):
    """No write path sets a cover to an arbitrary name today; if one ever does, the cover view still
    refuses anything outside the covers folder instead of bypassing the idea gate."""
    Challenge.objects.filter(pk=public_cover.pk).update(cover_image=pointing_at.format(name=term_sheet.file.name))
    answers = [(r.status_code, SECRET in body) for r, body in
               (fetch(user, "/challenges/green-packaging/cover/image") for user in (visitor, organiser))]
    assert answers == [(404, False), (404, False)]


def test_public_cover_may_be_cached_by_anyone(public_cover, visitor):
    response, body = fetch(visitor, public_cover.cover_url)
    assert (response.status_code, body, response["Cache-Control"], response["Content-Type"],
            response["Cross-Origin-Resource-Policy"]) == (
        200, public_cover.cover_image.open("rb").read(), "public, max-age=300", "image/png", "cross-origin")


def test_pages_and_api_point_at_the_views_not_at_storage(public_cover, term_sheet, organiser):
    client = client_for(organiser)
    detail = client.get("/challenges/green-packaging/").content.decode()
    listing = client.get("/challenges/").content.decode()
    api = client.get("/api/challenges/green-packaging").json()
    idea_page = client.get(f"/ideas/{term_sheet.idea_id}/").content.decode()
    cover_page = client.get("/challenges/green-packaging/cover/").content.decode()
    edit_page = client.get("/challenges/green-packaging/edit/").content.decode()
    idea_api = client.get(f"/api/ideas/{term_sheet.idea_id}").json()
    src = f'src="{public_cover.cover_url}"'
    assert (src in detail, src in listing, src in cover_page) == (True, True, True)
    assert api["cover_image"] == public_cover.cover_url
    assert f'href="/attachments/{term_sheet.pk}/"' in idea_page
    assert [a["url"] for a in idea_api["attachments"]] == [f"/attachments/{term_sheet.pk}/"]
    texts = (detail, listing, cover_page, edit_page, str(api), idea_page, str(idea_api))
    assert [("/media/" in text, public_cover.cover_image.name in text) for text in texts] == [(False, False)] * 7


def test_a_new_cover_gets_a_new_url(public_cover):
    before = public_cover.cover_url
    public_cover.cover_image.save("green-packaging.png", ContentFile(png(colour=(1, 2, 3))), save=True)
    assert public_cover.cover_url != before
    assert public_cover.cover_url.split("?")[0] == before.split("?")[0]


# Serving through the front web server or a remote storage, after the same check ---------------


def test_x_accel_redirect_after_the_gate(settings, term_sheet, organiser, visitor):
    settings.OPENCALL_MEDIA_ACCEL = "x-accel-redirect"
    settings.OPENCALL_MEDIA_ACCEL_PREFIX = "/protected-media/"
    url = f"/attachments/{term_sheet.pk}/"
    response, body = fetch(organiser, url)
    assert (response.status_code, body, response["X-Accel-Redirect"], response["Content-Type"]) == (
        200, b"", f"/protected-media/{term_sheet.file.name}", "application/pdf")
    refused, refused_body = fetch(visitor, url)
    assert (refused.status_code, refused.has_header("X-Accel-Redirect"), SECRET in refused_body) == (404, False, False)


def test_x_sendfile_after_the_gate(settings, term_sheet, organiser, visitor):
    settings.OPENCALL_MEDIA_ACCEL = "x-sendfile"
    response, body = fetch(organiser, f"/attachments/{term_sheet.pk}/")
    assert (response.status_code, body, response["X-Sendfile"]) == (200, b"", term_sheet.file.path)
    assert not fetch(visitor, f"/attachments/{term_sheet.pk}/")[0].has_header("X-Sendfile")


class SigningStorage:
    """Stands in for a django-storages S3/GCS storage: no local path, URLs signed on request."""

    def __init__(self, real) -> None:
        self.real = real
        self.asked: list[tuple[str, int, dict[str, str]]] = []

    def size(self, name):
        return self.real.size(name)

    def get_modified_time(self, name):
        return self.real.get_modified_time(name)

    def path(self, name):
        raise NotImplementedError

    def url(self, name, parameters=None, expire=None):
        self.asked.append((name, expire, parameters))
        return f"https://bucket.example/{name}?X-Signature=abc&Expires={expire}"


def test_signed_url_of_a_remote_storage_after_the_gate(settings, term_sheet, organiser, visitor):
    settings.OPENCALL_MEDIA_ACCEL = "signed-url"
    settings.OPENCALL_MEDIA_SIGNED_URL_SECONDS = 30
    storage = SigningStorage(term_sheet.file.storage)
    field = Attachment._meta.get_field("file")
    original = field.storage
    field.storage = storage
    try:
        refused, _ = fetch(visitor, f"/attachments/{term_sheet.pk}/")
        response, _ = fetch(organiser, f"/attachments/{term_sheet.pk}/")
    finally:
        field.storage = original
    assert refused.status_code == 404
    assert (response.status_code, response["Location"], response["Cache-Control"]) == (
        302, f"https://bucket.example/{term_sheet.file.name}?X-Signature=abc&Expires=30", "private, no-store")
    assert storage.asked == [(term_sheet.file.name, 30, {
        "ResponseContentType": "application/pdf",
        "ResponseContentDisposition": 'attachment; filename="term-sheet.pdf"',
    })]


# Decompression bomb --------------------------------------------------------------------------

TOO_MANY = "The picture has too many pixels: at most 25 megapixels."


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_bomb_as_cover_is_a_form_message(bomb, media_root, challenge, organiser):
    response = client_for(organiser).post("/challenges/green-packaging/cover/",
                                          {"cover_image": SimpleUploadedFile("cover.png", bomb, "image/png")})
    assert response.status_code == 422
    assert f'id="id_cover_image_error">{TOO_MANY}</small>' in response.content.decode()
    challenge.refresh_from_db()
    assert (challenge.cover_image.name, stored_files(media_root)) == ("", [])


def test_bomb_on_a_new_challenge_saves_nothing(bomb, media_root, org, organiser):
    form = {
        "title": "Smart shelves", "summary": "Shelves that know what is missing.", "description": "", "terms": "",
        "budget": "", "currency": "EUR", "visibility": "public", "categories": "", "sponsors": "",
        "invited_emails": "", "invited_organisations": "", "fields-TOTAL_FORMS": "0", "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0", "fields-MAX_NUM_FORMS": "20",
        "cover_image": SimpleUploadedFile("cover.png", bomb, "image/png"),
    }
    response = client_for(organiser).post("/organisations/northwind/challenges/new/", form)
    assert response.status_code == 422
    assert TOO_MANY in response.content.decode()
    assert (Challenge.objects.filter(slug__startswith="smart-shelves").count(), stored_files(media_root)) == (0, [])


def test_bomb_through_the_api_is_a_422_problem(bomb, media_root, challenge, organiser):
    client = client_for(organiser)
    response = client.post("/api/challenges/green-packaging/cover",
                           {"file": SimpleUploadedFile("cover.png", bomb, "image/png")})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["detail"], body["errors"]) == ("The cover image has too many pixels.", {"cover_image": [TOO_MANY]})
    challenge.refresh_from_db()
    assert (challenge.cover_image.name, stored_files(media_root)) == ("", [])


@pytest.mark.parametrize("size", [(10_000, 10_000), (6_000, 5_000)], ids=["pillow-warns-only", "over-our-cap"])
def test_smaller_bombs_are_refused_too(media_root, challenge, organiser, size):
    """Pillow only warns between its limit and twice it (10000 x 10000); our cap is lower still."""
    response = client_for(organiser).post(
        "/challenges/green-packaging/cover/",
        {"cover_image": SimpleUploadedFile("cover.png", png_bomb(*size), "image/png")})
    assert (response.status_code, TOO_MANY in response.content.decode(), stored_files(media_root)) == (422, True, [])


def test_a_normal_cover_still_goes_through(media_root, challenge, organiser):
    response = client_for(organiser).post(
        "/challenges/green-packaging/cover/",
        {"cover_image": SimpleUploadedFile("cover.png", png((1200, 400)), "image/png")})
    assert response.status_code == 302
    challenge.refresh_from_db()
    assert [p.name for p in stored_files(media_root)] == [Path(challenge.cover_image.name).name]
