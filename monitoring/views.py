"""``/metrics``: Prometheus text format, protected by a bearer token and/or an IP allow-list.

Off (404, as if the URL did not exist) unless ``VMGUI_METRICS_TOKEN`` or
``VMGUI_METRICS_ALLOW_IPS`` is set. With a token, a request without ``Authorization: Bearer
<token>`` or with another token gets 401 and an empty body; with an allow-list, a client
address outside it gets 403 and an empty body; with both, both must pass. The client address
is the connection's (``REMOTE_ADDR``): behind a reverse proxy, list the proxy's address or use
the token. Never a 500: whatever could not be read is left out (docs/monitoring.md).
"""

from __future__ import annotations

import glob
import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from cdr import telemetry
from monitoring.collect import ProcessCollector, SnapshotCollector, snapshot

logger = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(settings.METRICS_TOKEN or settings.METRICS_ALLOW_IPS)


def _token_ok(request: HttpRequest) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())


def _address_ok(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "").split("%")[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOW_IPS
    )


def _empty(status: int, **headers: str) -> HttpResponse:
    response = HttpResponse(b"", status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


class WorkerFiles(MultiProcessCollector):
    """prometheus_client's sum over the workers' files, without the files that hold nothing
    yet. A worker creates its file empty and sizes it a moment later (``MmapedDict``): a
    scrape reading it in between failed whole, so the scrape lost every counter (and did for
    good if the worker was killed in that moment). A file that vanished is skipped too."""

    def collect(self):
        files = []
        for name in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(name) > 0:
                    files.append(name)
            except OSError:
                continue
        return self.merge(files, accumulate=True)


def registry_for_scrape() -> CollectorRegistry:
    """vmgui's counters (summed over worker processes in multiprocess mode) and the
    scrape-time snapshot."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        WorkerFiles(registry)
    else:
        registry.register(ProcessCollector())
    try:
        snap = snapshot()
    except Exception:  # e.g. an unwritable cache directory: still answer the counters
        logger.exception("/metrics: the snapshot failed")
        telemetry.METRICS_ERRORS.labels("internal").inc()
        snap = None
    registry.register(SnapshotCollector(snap))
    return registry


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not enabled():
        return _empty(404)
    if settings.METRICS_TOKEN and not _token_ok(request):
        return _empty(401, **{"WWW-Authenticate": "Bearer"})
    if settings.METRICS_ALLOW_IPS and not _address_ok(request):
        return _empty(403)
    # The text format (0.0.4), or OpenMetrics when the scraper asks for it (Accept).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    try:
        body = encode(registry_for_scrape())
    except Exception:  # e.g. unreadable multiprocess files: what the snapshot alone gives
        logger.exception("/metrics: collecting the counters failed")
        telemetry.METRICS_ERRORS.labels("internal").inc()
        fallback = CollectorRegistry()
        fallback.register(SnapshotCollector(None))
        body = encode(fallback)
    return HttpResponse(body, content_type=content_type)
