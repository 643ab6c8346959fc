"""Reading a GUI page in tests: the text or the markup of one element by its id.

A small ``html.parser`` walker (no third-party HTML library in this project), enough for the
server-rendered pages: it follows nesting, skips void elements, and returns what a person
reads (text with whitespace runs collapsed).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# elements whose edges separate words when a page is read (table cells, list items, ...)
BLOCK = {"br", "dd", "div", "dt", "h1", "h2", "h3", "li", "p", "pre", "summary", "td", "th", "tr"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _Grab(HTMLParser):
    def __init__(self, wanted: str) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.depth = 0  # > 0 while inside the wanted element
        self.text: list[str] = []
        self.markup: list[str] = []
        self.found = False

    def handle_starttag(self, tag, attrs):
        raw = self.get_starttag_text() or ""
        if self.depth:
            self.markup.append(raw)
            if tag in BLOCK:
                self.text.append(" ")
            if tag not in VOID:
                self.depth += 1
        elif dict(attrs).get("id") == self.wanted and not self.found:
            self.found = True
            self.markup.append(raw)
            if tag not in VOID:
                self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.markup.append(f"</{tag}>")
            if tag in BLOCK:
                self.text.append(" ")
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)
            self.markup.append(data)


def _grab(html: str | bytes, element_id: str) -> _Grab:
    if isinstance(html, bytes):
        html = html.decode()
    parser = _Grab(element_id)
    parser.feed(html)
    if not parser.found:
        raise AssertionError(f"no element with id {element_id!r} in the page")
    return parser


def text_of(html: str | bytes, element_id: str) -> str:
    """The readable text of the element ``id`` (whitespace collapsed)."""
    return re.sub(r"\s+", " ", "".join(_grab(html, element_id).text)).strip()


def markup_of(html: str | bytes, element_id: str) -> str:
    """The element's markup (text unescaped)."""
    return "".join(_grab(html, element_id).markup)


def has_id(html: str | bytes, element_id: str) -> bool:
    if isinstance(html, bytes):
        html = html.decode()
    return f'id="{element_id}"' in html
