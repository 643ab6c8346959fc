"""OpenAPI document (/api/schema/) and the offline Swagger UI (/api/docs/)."""

from __future__ import annotations

import re

import pytest
import yaml
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_openapi_document_validates(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")


def test_every_resource_is_documented(schema):
    paths = set(schema["paths"])
    for path in (
        "/api/v1/cdrs/",
        "/api/v1/cdrs/{cdr_id}/",
        "/api/v1/cdrs/{cdr_id}/pcap",
        "/api/v1/cdrs/{cdr_id}/recording",
        "/api/v1/cdrs/{cdr_id}/audiograph",
        "/api/v1/cdrs/{cdr_id}/sip-history",
        "/api/v1/sensors/",
        "/api/v1/active-calls/",
        "/api/v1/active-calls/{sensor_id}/{call_ref}/pause",
        "/api/v1/audit/",
        "/api/v1/tokens/",
        "/api/v1/users/",
        "/api/v1/groups/",
    ):
        assert path in paths, path


def test_binary_endpoints_declare_their_content_types(schema):
    def types(path):
        return set(schema["paths"][path]["get"]["responses"]["200"]["content"])

    assert types("/api/v1/cdrs/{cdr_id}/pcap") == {"application/vnd.tcpdump.pcap"}
    assert {"audio/x-wav", "audio/ogg"} <= types("/api/v1/cdrs/{cdr_id}/recording")
    assert types("/api/v1/cdrs/{cdr_id}/audiograph") == {"image/png"}
    assert "text/csv" in types("/api/v1/cdrs/")


def test_every_declared_filter_is_a_query_parameter_of_the_cdr_list(schema):
    from cdr.query.filterspec import ALL_PARAMS

    names = {p["name"] for p in schema["paths"]["/api/v1/cdrs/"]["get"]["parameters"]}
    for param in ALL_PARAMS:
        expected = "header.X-Header-Name" if param.name.startswith("header.") else param.name
        assert expected in names


def test_the_docs_page_is_served_from_local_files_only():
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html[:300]
    assert not [s for s in sources if s.startswith(("http://", "https://", "//"))], sources
    from django.contrib.staticfiles import finders

    for src in sources:
        if src.startswith("/static/"):  # served by whitenoise after collectstatic (make run)
            assert finders.find(src.removeprefix("/static/").split("?")[0]), src
