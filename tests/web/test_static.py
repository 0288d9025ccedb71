"""Static assets: the vendored packages are served from this server with their licenses (no
CDN), and the stylesheet's color pairs keep WCAG AA contrast."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

STATIC = Path(__file__).resolve().parents[2] / "src" / "groundswell" / "web" / "static"
VENDORED = [
    "vendor/htmx/htmx.min.js",
    "vendor/htmx/LICENSE",
    "vendor/swagger-ui/swagger-ui-bundle.js",
    "vendor/swagger-ui/swagger-ui.css",
    "vendor/swagger-ui/LICENSE",
    "vendor/swagger-ui/NOTICE",
]


@pytest.mark.parametrize("path", VENDORED)
def test_vendored_files_are_served_from_this_server(client: TestClient, path: str) -> None:
    response = client.get(f"/static/{path}")

    assert response.status_code == 200
    assert len(response.content) > 0


def test_every_vendored_package_is_named_in_the_vendor_readme() -> None:
    readme = (STATIC / "vendor" / "README.md").read_text()
    packages = sorted(p.name for p in (STATIC / "vendor").iterdir() if p.is_dir())

    assert packages == ["htmx", "swagger-ui", "uplot"]
    for package in packages:
        assert f"`{package}/`" in readme
        assert (STATIC / "vendor" / package / "LICENSE").is_file()


def _external(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']((?:https?:)?//[^"']+)""", html)


def test_pages_and_api_docs_load_nothing_from_other_sites(client: TestClient) -> None:
    for path in ("/login", "/api/v1/docs", "/no-such-page"):
        assert _external(client.get(path).text) == [], path


def test_the_base_page_loads_the_vendored_htmx(client: TestClient) -> None:
    assert 'src="/static/vendor/htmx/htmx.min.js"' in client.get("/login").text


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colors."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_of_a_known_pair() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def _variables() -> dict[str, str]:
    css = (STATIC / "groundswell.css").read_text()
    found = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\b", css))
    return {k: v.lower() for k, v in found.items()}


# (text, background) pairs the stylesheet actually uses for text.
TEXT_PAIRS = [
    ("ink", "bg"),
    ("ink", "card"),
    ("muted", "bg"),
    ("muted", "card"),
    ("accent", "card"),
    ("accent", "bg"),
    ("accent-ink", "accent"),
    ("danger", "card"),
    ("danger", "danger-bg"),
    ("ok", "ok-bg"),
    ("ink", "current-bg"),
    ("accent", "current-bg"),
    ("ink", "danger-bg"),
]
# Non-text contrast (WCAG 1.4.11): the focus ring and the borders that outline fields.
UI_PAIRS = [("focus", "card"), ("focus", "bg"), ("field-line", "card")]


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS, ids=lambda v: str(v))
def test_text_colors_meet_wcag_aa(text: str, background: str) -> None:
    colors = _variables()

    assert contrast(colors[text], colors[background]) >= 4.5


@pytest.mark.parametrize(("part", "background"), UI_PAIRS, ids=lambda v: str(v))
def test_focus_ring_and_field_borders_meet_wcag_non_text_contrast(
    part: str, background: str
) -> None:
    colors = _variables()

    assert contrast(colors[part], colors[background]) >= 3.0


def test_colors_are_only_set_through_the_checked_variables() -> None:
    css = (STATIC / "groundswell.css").read_text()
    root_end = css.index("}", css.index(":root"))

    assert re.findall(r"#[0-9a-fA-F]{3,8}\b", css[root_end:]) == []
