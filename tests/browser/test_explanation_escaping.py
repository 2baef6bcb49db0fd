"""Hostile text in an explanation stays text when a browser opens the exported page.

The text under explanation comes from users (and, in a report, from whoever wrote the
reviews): a ``<script>`` or an ``onerror`` handler in it must show up as characters, never
run. The page is opened in Chromium with dialogs, console errors and page errors recorded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lab_driver import assert_explains_text, expect

from workbench.explain import explain, explanation_html

pytestmark = pytest.mark.browser

HOSTILE = (
    'A lovely film <script>alert(1)</script> and <img src=x onerror=alert(1)> "quoted" '
    "& it's <b>bold</b>"
)


def assert_inert(watched, html_file: Path, screenshot: Path) -> None:
    page = watched.page
    page.route(re.compile(r"^(https?|wss?)://"), lambda route: route.abort())
    page.goto(html_file.as_uri())
    explanation = page.locator(".wb-explanation")
    expect(explanation).to_be_visible()
    assert_explains_text(explanation, HOSTILE)
    expect(explanation.locator(".wb-text").first).to_be_visible()
    # Nothing the text contains became an element: no script, image or bold tag.
    injected = page.locator("script, img, .wb-text b, [onerror]").count()
    assert injected == 0, f"{injected} element(s) made from the text"
    page.screenshot(path=str(screenshot), full_page=True)
    assert not watched.dialogs, f"script from the text ran: {watched.dialogs}"
    assert not watched.page_errors, watched.page_errors
    assert not watched.console_errors, watched.console_errors


def test_to_html_keeps_hostile_text_inert(
    trained_clf, tmp_path: Path, watched_page, artifacts_dir: Path
) -> None:
    explanation = explain(trained_clf, HOSTILE, "gradient-x-input", progress=False)
    page = explanation.to_html(tmp_path / "explanation.html")
    assert_inert(watched_page, page, artifacts_dir / "escaping_to_html.png")


def test_stacked_page_with_hostile_title_keeps_it_inert(
    trained_clf, tmp_path: Path, watched_page, artifacts_dir: Path
) -> None:
    explanations = [
        explain(trained_clf, HOSTILE, method, progress=False)
        for method in ("gradient-x-input", "attention")
    ]
    page = tmp_path / "stacked.html"
    page.write_text(
        explanation_html(explanations, standalone=True, title=HOSTILE), encoding="utf-8"
    )
    assert_inert(watched_page, page, artifacts_dir / "escaping_stacked.png")
    title = watched_page.page.title()
    assert title == HOSTILE, f"the page title is {title!r}"
