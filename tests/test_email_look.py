"""The HTML email as a mail client gets it: the seller's name and colours, nothing fetched
from elsewhere, readable in dark mode, no sideways scrolling on a 390 px phone and a
table-like row on a wide screen (measured in headless Chromium when it is installed).
Also the words around it: time zones by name, people's words in typographic quotes."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.answers.help import _written
from bot.intents import Unclear
from notifier import email_send
from notifier.email_send import Brand
from notifier.message import InvoiceRow, Section
from tests.test_outgoing import ALERT, REPLY, body, email
from vault.config import ConfigError, load_config
from vault.formats import Formats, quoted

BRAND = Brand("Northwind Freight GmbH", "https://cdn.northwind.example/logo.png", "#0a7d45")
ROWS = tuple(InvoiceRow(f"INV-2026-{i:04d}", "4 Mar 2026", "3 Apr 2026", "12.867,11 €",
                        "overdue", f"https://l.test/d/{i}") for i in range(1, 5))
LISTING = replace(REPLY, sections=(replace(REPLY.sections[0], rows=ROWS),))


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def test_the_header_names_the_seller_with_logo_and_accent() -> None:
    html = email_send.html(LISTING, BRAND)
    assert ">Northwind Freight GmbH</span>" in html
    assert '<img src="https://cdn.northwind.example/logo.png"' in html
    assert "border-top:4px solid #0a7d45" in html and "background:#0a7d45" in html
    # Without a configured brand, the From display name heads the mail.
    assert ">Northwind Supply Co.</span>" in email_send.html(ALERT)


def test_nothing_is_fetched_but_the_sellers_logo_and_all_css_is_inline() -> None:
    for brand in (Brand(), BRAND):
        html = email_send.html(LISTING, brand)
        found = tags(html)
        assert not [t for t, _ in found if t in ("style", "link", "script", "iframe")]
        sources = [a["src"] for _, a in found if "src" in a]
        assert sources == ([BRAND.logo_url] if brand.logo_url else [])
        assert "url(" not in html and "@import" not in html and "@media" not in html


def test_every_box_with_a_background_sets_its_text_colour() -> None:
    """Dark-mode safety: a client's dark default text never lands on our light boxes."""
    html = email_send.html(LISTING, BRAND)
    assert '<meta name="color-scheme" content="light">' in html
    styled = [a["style"] for _, a in tags(html) if "background" in a.get("style", "")]
    assert styled
    for style in styled:
        assert re.search(r"(^|;)color:", style), style


def test_text_part_is_unchanged_by_the_brand() -> None:
    assert body(email(LISTING), "plain").startswith(LISTING.title)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless Chromium's --dump-dom window is at least 500 px wide, so the body is narrowed
# to the width under test; the layout has no media queries and follows its container.
PROBE = """<script>
window.addEventListener('load', () => {
  document.body.style.width = '%dpx';
  const right = Math.max(...[...document.body.querySelectorAll('*')].map(
    e => Math.ceil(e.getBoundingClientRect().right)));
  const rows = [...document.querySelectorAll('div[style*="font-size:0"]')];
  const tops = rows.map(r => [...r.children].map(c => Math.round(c.getBoundingClientRect().top)));
  document.title = JSON.stringify({width: right, tops});
});
</script>"""


def measure(html: str, width: int, tmp_path: Path) -> dict[str, object]:
    """Lay the email out in headless Chromium at `width` px and read back the page width
    and, per invoice row, the top of each of its three parts."""
    import json

    page = tmp_path / f"mail-{width}.html"
    page.write_text(html.replace("</body>", PROBE % width + "</body>"), encoding="utf-8")
    assert CHROMIUM
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1280,900", "--virtual-time-budget=2000", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=60, check=True)
    title = re.search(r"<title>(.*?)</title>", done.stdout, re.S)
    assert title, done.stdout[:500]
    measured: dict[str, object] = json.loads(title[1].replace("&quot;", '"'))
    return measured


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)")
def test_rows_stack_on_a_phone_and_line_up_on_a_wide_screen(tmp_path: Path) -> None:
    html = email_send.html(LISTING, replace(BRAND, logo_url=""))
    phone = measure(html, 390, tmp_path)
    assert phone["width"] <= 390  # nothing wider than the screen: no sideways scrolling
    for tops in phone["tops"]:  # type: ignore[attr-defined]
        assert tops[0] < tops[1]  # the amount goes under the number and dates
    wide = measure(html, 1200, tmp_path)
    assert wide["width"] <= 1200
    for tops in wide["tops"]:  # type: ignore[attr-defined]
        assert len(set(tops)) == 1  # number, amount and PDF link on one line


def test_moments_name_the_time_zone_as_people_read_it() -> None:
    moment = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert Formats.of("en_US", "America/New_York").moment(moment) \
        == "Nov 21, 2026, 10:00:00\u202fAM (Eastern Standard Time)"
    assert Formats.of("en_GB", "Europe/London").moment(moment).endswith("(Greenwich Mean Time)")
    assert Formats.of("de_DE", "Europe/Berlin").moment(datetime(2026, 7, 1, tzinfo=UTC)) \
        .endswith("(Central European Summer Time)")
    assert Formats.of("en", "UTC").moment(moment).endswith("(UTC)")
    assert Formats.of("en", "Etc/GMT+5").zone() == "GMT-05:00"
    assert Formats.of("en", "America/New_York").zone() == "Eastern Time"


def test_peoples_words_come_back_in_typographic_quotes() -> None:
    assert quoted("it's  \n fine") == "\u201cit's fine\u201d"
    assert _written(Unclear(text="it's \"odd\"\nmore")) == " \u201cit's \"odd\"\u201d"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("accent_color", "#ffff00", "too light for white button text"),
    ("accent_color", "blue", 'expected a colour like "#1f6feb"'),
    ("logo_url", "http://cdn.example/logo.png", "expected an https:// URL"),
])
def test_bad_brand_settings_are_refused_by_name(
    tmp_path: Path, key: str, value: str, message: str,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[seller]\n{key} = "{value}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"seller\.{key}: .*{re.escape(message)}"):
        load_config(path, env={})


def test_brand_settings_default_and_load(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[seller]\nname = "N"\nlogo_url = "https://n.example/l.png"\n'
                    'accent_color = "#0A7D45"\n', encoding="utf-8")
    seller = load_config(path, env={}).seller
    assert (seller.logo_url, seller.accent_color) == ("https://n.example/l.png", "#0a7d45")
    assert Brand.of(seller) == Brand("N", "https://n.example/l.png", "#0a7d45")
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    assert load_config(empty, env={}).seller.accent_color == "#1f6feb"


def test_a_section_with_rows_keeps_download_links() -> None:
    html = email_send.html(replace(REPLY, sections=(Section(rows=ROWS),)), BRAND)
    assert html.count(">Download PDF</a>") == len(ROWS)
