"""Counts api.php and sql.php requests by task and outcome, and times them.

The faces say what a request was with ``cdr.telemetry.label_request`` (a task from their own
allow-list and ``ok`` or the error type); this middleware only reads those labels, so no face
imports another. A request the face did not label (refused before its task was known, or
answered by an earlier middleware) counts as task ``unknown`` with status ``http_<code>``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from cdr import telemetry

logger = logging.getLogger(__name__)

# path_info (without VMGUI_URL_PREFIX) → the endpoint label.
ENDPOINTS = {"/php/api.php": "api.php", "/php/model/sql.php": "sql.php"}


class LegacyRequestMetricsMiddleware:
    """``vmgui_legacy_requests_total`` and ``vmgui_legacy_request_duration_seconds``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is None:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            labels = telemetry.request_labels(request)
            task = labels.get("task", telemetry.UNKNOWN)
            status = labels.get("status") or f"http_{response.status_code}"
            telemetry.LEGACY_REQUESTS.labels(endpoint, task, status).inc()
            telemetry.LEGACY_LATENCY.labels(endpoint, task).observe(time.perf_counter() - started)
        except Exception:  # counting must never break an answer
            logger.exception("counting a %s request failed", endpoint)
        return response
