"""The shared template filters in core/templatetags/opencall.py."""

from __future__ import annotations

from django.template import Context, Template


def _render(source: str, **context) -> str:
    return Template("{% load opencall %}" + source).render(Context(context))


def test_markdown_is_sanitised_and_safe():
    html = _render("{{ text|markdown }}", text="**hi** <script>alert(1)</script> <img src=x onerror=alert(1)>")
    assert (
        html == "<p><strong>hi</strong> &lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;</p>\n"
    )


def test_markdown_of_none_is_empty():
    assert _render("{{ text|markdown }}", text=None) == ""


def test_money():
    assert _render("{{ n|money:'EUR' }}", n=1234567) == "12,345.67 EUR"
    assert _render("{{ n|money:'JPY' }}", n=50000) == "50,000 JPY"
    assert _render("{{ n|money:'EUR' }}", n=None) == ""


def test_phase_label():
    assert _render("{{ p|phase_label }}", p="submission") == "Submission"
    assert _render("{{ p|phase_label }}", p="draft") == "Not yet open"
    assert _render("{{ p|phase_label }}", p="unknown") == "unknown"
    assert _render("{{ p|phase_label }}", p="") == ""


def test_get_item():
    assert _render("{{ d|get_item:'a' }}", d={"a": 3}) == "3"
    assert _render("{{ d|get_item:'b' }}", d={"a": 3}) == "None"


def test_oneline():
    assert _render("{% filter oneline %}\n   Change   Password\n{% endfilter %}") == "Change Password"
