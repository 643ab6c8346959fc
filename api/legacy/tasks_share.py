"""api.php ``getShareURL`` and the share options both legacy share endpoints read.

Thin adapter: params → ``sharing.service.create`` → ``{"success":true,"url":"..."}``. The
spec names the parameters (callId or cdrId, cidInterval, rtp, sip_history, anonIps,
validDays) but no answer shape; ours is written down in docs/sharing.md:

    {"success": true, "url": "https://share.example.com/share/<token>",
     "type": "share_link", "expires": "YYYY-MM-DD HH:MM:SS", "id": 12}

(plus ``"password"`` when a protected link's password was generated). getShareURL makes a
public ``share_link`` unless ``type``/``subType`` asks for another link type.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.services import ApiPrincipal
from api.legacy.params import (
    ParamError,
    bool_value,
    int_list,
    int_value,
    is_blank,
    text_value,
)
from sharing import service
from sharing.models import Share
from sharing.service import ShareRefused
from vmgui.legacyjson import JsonResponse

logger = logging.getLogger(__name__)


def _flag(params: dict[str, Any], default: bool, *names: str) -> bool:
    for name in names:
        value = params.get(name)
        if not is_blank(value):
            return bool_value(value, f"params.{name}")
    return default


def _text(params: dict[str, Any], *names: str) -> str:
    for name in names:
        value = params.get(name)
        if not is_blank(value):
            return text_value(value, f"params.{name}")
    return ""


def share_options(params: dict[str, Any], *, ids_key: str = "cdrId") -> dict[str, Any]:
    """The keyword arguments of ``sharing.service.create`` from legacy params.

    ``rtp`` defaults to false, ``sip_history`` to true (the spec: "true = SIP history only (no
    RTP)"); ``anonIps`` to false; ``validDays`` to VMGUI_SHARE_DEFAULT_DAYS.
    """
    ids: list[int] = []
    for key in (ids_key, "cdrId", "id"):
        if not is_blank(params.get(key)):
            ids = int_list(params[key], f"params.{key}", minimum=1, ids=True)
            break
    call_id = "" if ids else _text(params, "callId")
    if not ids and not call_id:
        raise ParamError('params.cdrId or params.callId is required, e.g. {"cdrId": 123}')
    interval = params.get("cidInterval")
    days = params.get("validDays")
    password = params.get("sharePassword", params.get("password"))
    return {
        "cdr_ids": ids,
        "call_id": call_id,
        "cid_interval": service.DEFAULT_CID_INTERVAL
        if is_blank(interval)
        else int_value(interval, "params.cidInterval", minimum=0, maximum=service.MAX_CID_INTERVAL),
        "rtp": _flag(params, False, "rtp"),
        "sip_history": _flag(params, True, "sip_history", "sipHistory"),
        "anon_ips": _flag(params, False, "anonIps", "anon_ips"),
        "valid_days": None
        if is_blank(days)
        else int_value(days, "params.validDays", minimum=1, maximum=settings.SHARE_MAX_DAYS),
        "password": None if is_blank(password) else text_value(password, "params.password"),
    }


def link_type(params: dict[str, Any], default: str) -> str:
    kind = _text(params, "subType", "type", "linkType") or default
    if kind not in service.KINDS:
        raise ParamError(f"params.subType: one of {', '.join(service.KINDS)}")
    return kind


def created(new: service.NewShare, request: HttpRequest) -> dict[str, Any]:
    """The success payload of a new share."""
    share = new.share
    out: dict[str, Any] = {
        "url": service.url(share, new.token, request),
        "type": share.kind,
        "expires": timezone.localtime(share.expires_at).strftime("%Y-%m-%d %H:%M:%S"),
        "id": share.pk,
    }
    if new.password:
        out["password"] = new.password
    return out


def get_share_url(
    params: dict[str, Any] | None, principal: ApiPrincipal, request: HttpRequest
) -> JsonResponse:
    """getShareURL: a new share link of the CDR (cdrId) or call legs (callId)."""
    params = params or {}
    kind = link_type(params, Share.Kind.PUBLIC)
    options = share_options(params)
    try:
        new = service.create(principal.user, kind, request=request, face="api.php", **options)
    except ShareRefused as exc:
        logger.info("api.php getShareURL refused: %s", exc.reason)
        return JsonResponse({"success": False, "errors": {"reason": exc.reason}})
    return JsonResponse({"success": True, **created(new, request)})


TASKS = {"getShareURL": get_share_url}
