"""A schema-driven fuzz run (schemathesis) over the whole REST API: no 5xx, no answer that
violates the OpenAPI document. CI-sized (``VMGUI_SCHEMATHESIS_EXAMPLES`` per operation,
default 10); a longer run: ``VMGUI_SCHEMATHESIS_EXAMPLES=500 pytest tests/api/rest/test_schemathesis.py``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.rest.support import token_for
from tests.factories import make_call

EXAMPLES = int(os.environ.get("VMGUI_SCHEMATHESIS_EXAMPLES", "10"))


def _app():
    from vmgui.wsgi import application

    return application


schema = schemathesis.openapi.from_wsgi("/api/schema/", _app())


@pytest.fixture
def _keep_test_connection():
    """The WSGI app is called directly (not through Django's test client), so detach the
    handlers that close "old" connections at each request, as the test client does: they
    would close the test's connection in the middle of its transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, _keep_test_connection):
    from django.contrib.auth import get_user_model

    for minute in range(3):
        make_call(f"2026-11-27 12:0{minute}:00", caller=f"+42060{minute}")
    admin = get_user_model().objects.create_superuser("fuzzadmin", "f@x", "fuzz-pass-123")
    return token_for(admin, read_only=False)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_5xx_or_off_schema(case, admin_token):
    response = case.call(headers={"Authorization": f"Bearer {admin_token}"})
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            response_schema_conformance,
            content_type_conformance,
            status_code_conformance,
        ],
    )
