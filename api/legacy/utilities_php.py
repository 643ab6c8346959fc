"""/php/model/utilities.php: the GUI's helper endpoint; here ``task=shareCdr`` (share links).

``utilities.php?task=shareCdr&params={"type":"share_cdr_show","subType":"share_link","id":[128024590]}``
with the GUI session (the ``PHPSESSID`` cookie of a login or of sql.php's ``bypass_login``).
``subType``: ``self_protected_link`` (public, password: ``params.password`` or generated and
returned), ``self_login_link`` (only for logged-in users who may see the call), ``share_link``
(public, on the share site). Options as api.php getShareURL (api.legacy.tasks_share).

Answers: ``{"success":true,"url":"...","type":..,"expires":..,"id":..[,"password":..]}``;
errors in sql.php's envelope (``error.type``/``error.descr`` and ``errors.reason``); no session →
``{"success":false,"error":{"type":"no_session"}}``. Choices: docs/sharing.md.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from accounts.services import AuthRefused, ensure_not_blocked
from api.legacy.dates import DateParamError
from api.legacy.params import ParamError, is_blank, params_object, request_fields, text_value
from api.legacy.sql_php import failure, no_session
from api.legacy.sql_session import NoSession, session_principal
from api.legacy.tasks_share import created, link_type, share_options
from cdr.query.errors import QueryError
from sharing import service
from sharing.models import Share
from sharing.service import ShareRefused
from vmgui.faults import database_unavailable
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger(__name__)

TASKS: Final = ("shareCdr",)
SHARE_TYPES: Final = ("share_cdr_show",)
INTERNAL_ERROR: Final = (
    "internal error while answering the request (the server log has the details)"
)


def _share_cdr(request: HttpRequest, fields: dict[str, Any]) -> dict[str, Any]:
    principal = session_principal(request)
    if principal.user is not None:
        ensure_not_blocked(principal.user)
    params = params_object(fields.get("params")) or {}
    kind = params.get("type")
    if not is_blank(kind) and text_value(kind, "params.type") not in SHARE_TYPES:
        raise ParamError(f"params.type: expected {', '.join(SHARE_TYPES)}")
    sub = link_type({"subType": params.get("subType")}, Share.Kind.PROTECTED)
    options = share_options(params, ids_key="id")
    new = service.create(principal.user, sub, request=request, face="utilities.php", **options)
    logger.info("utilities.php shareCdr %s by %s", sub, principal.username)
    return {"success": True, **created(new, request)}


@csrf_exempt
def utilities_php(request: HttpRequest) -> HttpResponseBase:
    """/php/model/utilities.php?task=shareCdr&params={...} (session cookie)."""
    try:
        if request.method not in ("GET", "POST"):
            return failure("params", f"method {request.method} is not supported; use GET or POST")
        fields = request_fields(request)
        task = str(fields.get("task") or "").strip()
        if task.lower() != "sharecdr":
            shown = f"'{task[:40]}'" if task else "missing"
            return failure("params", f"task {shown}: expected one of {', '.join(TASKS)}")
        return JsonResponse(_share_cdr(request, fields))
    except NoSession:
        return no_session()
    except AuthRefused as exc:
        return failure("login", exc.reason)
    except ShareRefused as exc:
        logger.info("utilities.php refused (%s): %s", exc.kind, exc.reason)
        return failure(exc.kind, exc.reason)
    except (ParamError, DateParamError, QueryError) as exc:
        return failure("params", str(exc))
    except Exception as exc:
        if database_unavailable(exc):
            raise
        logger.exception("utilities.php failed")
        return failure("internal", INTERNAL_ERROR)
