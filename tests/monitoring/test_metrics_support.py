"""Shared helpers of the /metrics tests (this module has no tests of its own).

``scrape`` GETs /metrics and parses the answer with prometheus_client's own text parser;
``Samples`` looks values up by metric name and labels.
"""

from __future__ import annotations

import datetime as dt

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "s3cret-metrics-token"
URL = "/metrics"
# The end of the window in the tests: 10:10:00 UTC, window 5 minutes → from 10:05:00.
NOW = dt.datetime(2026, 11, 27, 10, 10, tzinfo=dt.UTC)


class Samples:
    """Every sample of a /metrics answer: ``value(name, **labels)``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples = [s for f in self.families.values() for s in f.samples]

    def names(self) -> set[str]:
        return {s.name for s in self.samples}

    def find(self, name: str, **labels: str) -> list:
        return [
            s
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float | None:
        found = [s for s in self.find(name, **labels) if set(s.labels) >= set(labels)]
        exact = [s for s in found if s.labels == labels] or found
        assert len(exact) <= 1, exact
        return exact[0].value if exact else None

    def by(self, name: str, *keys: str) -> dict[tuple, float]:
        return {tuple(s.labels.get(k) for k in keys): s.value for s in self.find(name)}


def scrape(client: Client | None = None, token: str | None = TOKEN, **headers) -> Samples:
    client = client or Client()
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = client.get(URL, headers=headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return Samples(response.content.decode())
