from __future__ import annotations

import pytest

from opencall.core import audit
from opencall.core.markdown import render_markdown
from opencall.core.models import AuditEvent
from opencall.core.money import format_money, to_minor


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("**bold** and _it_", "<p><strong>bold</strong> and <em>it</em></p>\n"),
        ("<script>alert(1)</script>hello", "<p>&lt;script&gt;alert(1)&lt;/script&gt;hello</p>\n"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        ('<img src=x onerror="alert(1)">', '<p>&lt;img src=x onerror="alert(1)"&gt;</p>\n'),
        ("[site](https://example.org)", '<p><a href="https://example.org" rel="noopener noreferrer nofollow">site</a></p>\n'),
    ],
)
def test_markdown_is_sanitised(source, expected):
    assert render_markdown(source) == expected


def test_money_round_trip():
    assert to_minor("1234.56", "EUR") == 123456
    assert format_money(123456, "EUR") == "1,234.56 EUR"
    assert format_money(5000, "JPY") == "5,000 JPY"
    assert format_money(None, "EUR") == ""


@pytest.mark.django_db
def test_audit_chain_detects_tampering(participant):
    first = audit.record(actor=participant, verb="demo.one", object_type="x", object_id="1", data={"a": 1})
    second = audit.record(actor=None, verb="demo.two", object_type="x", object_id="2")
    assert second.prev_hash == first.hash
    assert [e.seq for e in AuditEvent.objects.all()] == [1, 2]
    assert audit.verify_chain() == (True, 2, None)
    AuditEvent.objects.filter(pk=first.pk).update(data={"a": 2})
    assert audit.verify_chain() == (False, 0, 1)
