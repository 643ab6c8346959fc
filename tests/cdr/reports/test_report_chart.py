"""cdr.reports.chart: the report PNG (title, period, branding, figures) for any data."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cdr.query.scope import CdrScope
from cdr.reports import chart
from cdr.reports.chart import HEADER
from cdr.reports.service import Period, summarize
from tests.cdr.reports.test_reports_support import DAY, seed_calls
from tests.factories import aware

PERIOD = Period(aware(f"{DAY} 00:00:00"), aware(f"{DAY} 23:59:59"))


def draw(data, title="Daily Summary", brand="vmgui") -> Image.Image:
    png = chart.render_png(data, title=title, period=f"{DAY} (UTC)", brand=brand)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == chart.WIDTH
    return image.convert("RGB")


@pytest.mark.django_db
def test_it_draws_every_section_below_a_branded_header():
    seed_calls()
    full = draw(summarize({}, PERIOD, CdrScope.unrestricted()))
    bare = draw(summarize({}, PERIOD, CdrScope.unrestricted(), sections=[]))
    assert full.getpixel((5, 5)) == bare.getpixel((5, 5)) == HEADER
    assert full.height > bare.height + 500  # the hour chart and four tables
    assert full.getpixel((5, full.height - 5)) == (255, 255, 255)


@pytest.mark.django_db
def test_it_draws_a_period_without_calls_and_any_title():
    empty = summarize({}, PERIOD, CdrScope.unrestricted())
    titles = ("Denní přehled – Žluťoučký kůň", "日本の通話レポート", "x" * 500, "🙂", "")
    images = [draw(empty, title=title, brand="ACME Telecom").tobytes() for title in titles]
    assert len(set(images)) == len(titles)  # each title is drawn, none dropped as unprintable


def test_the_brand_and_title_change_the_image():
    data = {
        "summary": {
            "calls": 3, "answered": 2, "unanswered": 1, "asr": 66.67, "acd": 30.0,
            "minutes": 1.0, "mos_avg": 4.1, "mos_min": 3.9, "loss_avg": 0.1, "loss_max": 0.2,
            "jitter_avg": 1.0, "jitter_max": 2.0, "mos_calls": 2,
        }
    }  # fmt: skip
    one, other = draw(data, brand="vmgui"), draw(data, brand="ACME")
    assert one.tobytes() != other.tobytes()
    assert draw(data, title="A").tobytes() != draw(data, title="B").tobytes()
