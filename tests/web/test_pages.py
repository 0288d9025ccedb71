"""The page shell without a browser: room navigation and empty states, the way to sign-in,
friendly error pages, and the accessibility basics every page must keep (language, skip
link, one h1, a label for every field, alt text)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from groundswell.app import BUILT_ROOMS
from groundswell.kernel.db import Database
from groundswell.web.rooms import ROOMS, Room
from tests.builders import Person, csrf_from, login, make_org

SIGNED_IN_PAGES = [
    "/",
    *(f"/{room.slug}" for room in ROOMS),
    "/settings/users",
    "/settings/tokens",
    "/audit",
]


@dataclass
class Field:
    tag: str
    attrs: dict[str, str]
    in_label: bool


@dataclass
class Outline(HTMLParser):
    """The parts of a page the checks below need, gathered in one pass."""

    lang: str | None = None
    title: str = ""
    links: list[dict[str, str]] = field(default_factory=list)
    nav_links: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    fields: list[Field] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    h1: list[str] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    _open: list[str] = field(default_factory=list)
    _nav: str | None = None
    _label_depth: int = 0
    _text_target: str | None = None
    _text: str = ""

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "nav":
            self._nav = a.get("aria-label", "")
            self.nav_links.setdefault(self._nav, [])
        elif tag == "a":
            self.links.append(a)
            if self._nav is not None:
                self.nav_links[self._nav].append(a)
        elif tag == "label":
            self._label_depth += 1
            if "for" in a:
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            self.fields.append(Field(tag, a, self._label_depth > 0))
        elif tag == "img":
            self.images.append(a)
        if tag in ("title", "h1"):
            self._text_target, self._text = tag, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._nav = None
        elif tag == "label":
            self._label_depth -= 1
        if tag == self._text_target:
            text = " ".join(self._text.split())
            if tag == "title":
                self.title = text
            else:
                self.h1.append(text)
            self._text_target = None

    def handle_data(self, data: str) -> None:
        if self._text_target:
            self._text += data


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    parsed.close()
    return parsed


@pytest.fixture
def owner(client: TestClient, db: Database) -> Person:
    person = make_org(db, "Acme")
    login(client, person)
    return person


def test_navigation_links_every_room_in_order(client: TestClient, owner: Person) -> None:
    page = outline(client.get("/").text)

    assert [a["href"] for a in page.nav_links["Rooms"]] == [f"/{room.slug}" for room in ROOMS]


# A room that gets its own pages leaves this list; its own tests then cover its first page.
NOT_BUILT = [room for room in ROOMS if room.slug not in BUILT_ROOMS]


def test_every_room_of_the_navigation_answers(client: TestClient, owner: Person) -> None:
    for room in ROOMS:
        response = client.get(f"/{room.slug}")
        assert response.status_code == 200, room.slug
        assert outline(response.text).h1, room.slug


@pytest.mark.parametrize("room", NOT_BUILT, ids=[room.slug for room in NOT_BUILT])
def test_a_room_not_built_yet_shows_its_honest_empty_state(
    client: TestClient, owner: Person, room: Room
) -> None:
    response = client.get(f"/{room.slug}")

    assert response.status_code == 200
    page = outline(response.text)
    assert page.h1 == [room.title]
    assert page.title == f"{room.title} · Groundswell"
    empty = "The rest of this room is not built yet" if room.built_parts else "Nothing here yet"
    assert empty in response.text
    assert room.issue_hint in response.text
    for _label, href in room.built_parts:
        assert f'href="{href}"' in response.text
    current = [a for a in page.nav_links["Rooms"] if a.get("aria-current") == "page"]
    assert [a["href"] for a in current] == [f"/{room.slug}"]


@pytest.mark.parametrize(
    "path", ["/", "/care", "/settings/tokens", "/audit?action=token.create&who=a%40b.example"]
)
def test_a_visitor_who_is_not_signed_in_goes_to_login_and_comes_back(
    client: TestClient, db: Database, path: str
) -> None:
    person = make_org(db, "Acme")

    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={quote(path)}"
    form = client.get(response.headers["location"])
    assert form.status_code == 200
    signed_in = client.post(
        "/login",
        data={
            "email": person.email,
            "password": person.password,
            "csrf_token": csrf_from(form.text),
            "next": path,
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == path


def test_an_unknown_page_is_a_friendly_html_404(client: TestClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = outline(response.text)
    assert page.h1 == ["Not found"]
    assert "Nothing lives at /no-such-page." in response.text
    assert {"href": "/", "class": "button"} in page.links
    assert "Traceback" not in response.text


def test_an_htmx_request_for_an_unknown_page_gets_a_fragment(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"HX-Request": "true"})

    assert response.status_code == 404
    assert "<html" not in response.text
    assert 'role="alert"' in response.text
    assert "Nothing lives at /no-such-page." in response.text


def _assert_accessible_basics(html: str, where: str) -> None:
    page = outline(html)
    assert page.lang == "en", where
    assert page.title.endswith("· Groundswell"), where
    assert len(page.h1) == 1, f"{where}: h1 {page.h1}"
    # The skip link is the first link, so it is the first stop of the Tab key.
    assert page.links[0].get("href") == "#main", where
    assert "main" in page.ids, where
    for f in page.fields:
        if f.attrs.get("type") in ("hidden", "submit", "button"):
            continue
        named = (
            f.in_label
            or f.attrs.get("id", "\0") in page.label_for
            or f.attrs.get("aria-label")
            or f.attrs.get("aria-labelledby")
        )
        assert named, f"{where}: <{f.tag} name={f.attrs.get('name')!r}> has no label"
    for img in page.images:
        assert "alt" in img, f"{where}: <img src={img.get('src')!r}> has no alt"


def test_the_login_page_meets_the_accessibility_basics(client: TestClient) -> None:
    response = client.get("/login")

    _assert_accessible_basics(response.text, "/login")
    assert 'autocomplete="current-password"' in response.text


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_meet_the_accessibility_basics(
    client: TestClient, owner: Person, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    _assert_accessible_basics(response.text, path)


def test_the_menu_button_says_what_it_opens(client: TestClient, owner: Person) -> None:
    page = client.get("/").text

    assert 'aria-controls="rooms-nav"' in page
    assert 'aria-expanded="false"' in page
    assert 'id="rooms-nav"' in page


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_pages_carry_no_inline_event_handlers(client: TestClient, owner: Person, path: str) -> None:
    # Names and emails end up in confirm messages; as data-confirm attributes they stay text,
    # inside an onsubmit="..." a quote in them would become script.
    html = client.get(path).text

    assert re.findall(r"\son[a-z]+\s*=", html) == []


def test_expired_session_in_an_htmx_request_redirects_the_whole_page(client: TestClient) -> None:
    response = client.get(
        "/settings/tokens", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/settings/tokens"
