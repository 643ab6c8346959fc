"""WSGI entry point (gunicorn vmgui.wsgi:application), with the garbage collector set for a
server process (docs/benchmarks.md, "Eighth round"; issue 19).

Python's cyclic collector runs inside whichever request crosses its thresholds. Two costs
of that are moved out of the requests:

- Once the app is loaded, its long-lived objects (modules, models, settings, the URL map and
  the views it imports) are frozen (``gc.freeze``): a full collection otherwise walks all of
  them, ~120,000 objects and ~70 ms on the reference VM. Frozen objects are still freed when
  their last reference goes; only cycles among them are never collected, and these live as
  long as the process anyway.
- The young generations are collected after the answer is sent (``request_finished``: the
  server has written the whole response), when Python would have collected them (700 new
  objects), not in the middle of a request. A 10,000-row answer holds thousands of the
  driver's 68-column row tuples at once: collected every 700 objects, the collector scanned
  them ~30 times in the request (~20 ms of ~330). Inside a request, the collector now runs
  only past 50,000 new objects (a long streamed export), so memory stays bounded.
"""

import gc
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

# Python's own thresholds (read before they are changed below): new objects before a young
# collection (700), then collections of a generation before the next older one's (10, 10).
DUE, _MIDDLE_DUE, _OLD_DUE = gc.get_threshold()
IN_REQUEST = 50_000  # past this, the collector still runs inside a request


def collect_after_response(**kwargs: object) -> None:
    """The collection Python would have run by now, with its choice of generation."""
    young, middle, old = gc.get_count()
    if young >= DUE:
        gc.collect(2 if old >= _OLD_DUE else 1 if middle >= _MIDDLE_DUE else 0)


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgui.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports the views now, so they are frozen too
gc.freeze()
gc.set_threshold(IN_REQUEST, _MIDDLE_DUE, _OLD_DUE)
request_finished.connect(collect_after_response, dispatch_uid="vmgui.wsgi.collect")
