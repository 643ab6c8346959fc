"""Share links as a service: create, open, check, revoke; plain data in, plain data out.

Used by every face that makes or shows shares (api.php ``getShareURL``, utilities.php
``shareCdr``, the REST API, the share pages). Rules (docs/sharing.md):

* A token is 256 random bits (``secrets.token_urlsafe(32)``, 43 characters); only its SHA-256
  is stored. Looking a token up is a lookup of its hash.
* Creating needs a user who is not blocked, ``can_cdr`` and the CDR(s) in the user's scope; with
  ``rtp`` also ``can_download_audio`` and ``can_pcap``.
* Opening re-checks the creator **now**: blocked, deleted, or no longer allowed to see the
  call or its media → the link opens nothing. A share never shows more than its creator may
  see today. A login link also needs the visitor's own rights.
* Every creation and every visit (refused ones too) is an audit event; wrong passwords are
  counted in the audit log and throttled per link and per client address, like logins
  (accounts.throttle).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Final

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts import audit
from accounts.models import AuditEvent
from accounts.permissions import effective
from accounts.services import AuthRefused, ensure_not_blocked
from cdr.codecnumbers import codec_name
from cdr.media import service as media
from cdr.media.anonymize import IpMap, anonymize_pcap
from cdr.media.service import CallMedia, MediaFile, NoSuchCdr
from cdr.query.engine import CdrFilter, fetch_rows
from cdr.siphistory.extract import CallFlow, DtmfEvent, RtpStream, SipMessage, call_flow
from sharing.branding import share_site_of
from sharing.models import Share

TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEFAULT_CID_INTERVAL: Final = 60
MAX_CID_INTERVAL: Final = 86400
MAX_PASSWORD_LENGTH: Final = 128
MIN_PASSWORD_LENGTH: Final = 6
# Generated passwords: 12 characters without look-alikes (about 69 bits).
_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
FACE: Final = "share"
KINDS: Final = tuple(Share.Kind.values)
MEDIA_FLAGS: Final = ("can_download_audio", "can_pcap")


class ShareRefused(Exception):
    """A share cannot be made or opened; ``reason`` is safe to show, ``status`` is HTTP's.

    ``kind``: params (400), login (401: log in first), password (401: ask for it),
    permission (403), missing (404), gone (410: expired, revoked, no longer allowed),
    throttled (429).
    """

    STATUS: Final = {
        "params": 400,
        "login": 401,
        "password": 401,
        "permission": 403,
        "missing": 404,
        "gone": 410,
        "throttled": 429,
    }

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.status = self.STATUS[kind]


@dataclass(frozen=True)
class NewShare:
    share: Share
    token: str  # shown once: the link
    password: str  # the password of a protected link when it was generated here, else ""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _generated_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


# ---------------------------------------------------------------------------
# Rights (always the creator's current ones)
# ---------------------------------------------------------------------------


def _usable(user) -> bool:
    try:
        ensure_not_blocked(user)
    except AuthRefused:
        return False
    return True


def _may(user, flags: Sequence[str]) -> bool:
    rights = effective(user)
    return all(rights.has(f) for f in flags)


def media_allowed(share: Share, viewer=None) -> bool:
    """The audio player and the PCAP download: asked for, and allowed to the creator today
    (and, for a login link, to the visitor)."""
    if not share.rtp or not _may(share.created_by, MEDIA_FLAGS):
        return False
    return share.kind != Share.Kind.LOGIN or _may(viewer, MEDIA_FLAGS)


# ---------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------


def _find(ids: Sequence[int], call_id: str, interval: int, scope) -> list[CallMedia]:
    try:
        if ids:
            if len(ids) > settings.MEDIA_MAX_CALLS:
                raise ShareRefused("params", f"at most {settings.MEDIA_MAX_CALLS} CDRs per share")
            return media.find_calls(ids, scope)
        if not call_id:
            raise ShareRefused("params", "a CDR id (cdrId) or a Call-ID (callId) is required")
        legs = media.find_legs(call_id, scope, interval_s=interval)
        return legs[-settings.MEDIA_MAX_CALLS :]
    except NoSuchCdr as exc:
        raise ShareRefused("missing", exc.reason) from None


def create(
    creator,
    kind: str,
    *,
    cdr_ids: Sequence[int] = (),
    call_id: str = "",
    cid_interval: int = DEFAULT_CID_INTERVAL,
    rtp: bool = False,
    sip_history: bool = True,
    anon_ips: bool = False,
    valid_days: int | None = None,
    password: str | None = None,
    request=None,
    face: str = "",
) -> NewShare:
    """A new share of ``creator``'s call(s); ShareRefused says why not."""
    if creator is None:
        raise ShareRefused(
            "permission",
            "a share needs a user account to belong to (send user and password)",
        )
    if not _usable(creator):
        raise ShareRefused("permission", "this account is blocked and cannot share calls")
    if kind not in KINDS:
        raise ShareRefused("params", f"unknown link type {kind[:40]!r}; use {', '.join(KINDS)}")
    if not _may(creator, ("can_cdr",)):
        raise ShareRefused("permission", "permission denied: sharing a call needs can_cdr")
    if rtp:
        missing = [f for f in MEDIA_FLAGS if not _may(creator, (f,))]
        if missing:
            raise ShareRefused(
                "permission",
                f"permission denied: sharing audio and PCAP (rtp) needs {' and '.join(missing)}",
            )
    days = settings.SHARE_DEFAULT_DAYS if valid_days is None else valid_days
    if not 1 <= days <= settings.SHARE_MAX_DAYS:
        raise ShareRefused("params", f"validDays: 1 to {settings.SHARE_MAX_DAYS} days")
    if not 0 <= cid_interval <= MAX_CID_INTERVAL:
        raise ShareRefused("params", f"cidInterval: 0 to {MAX_CID_INTERVAL} seconds")
    secret = ""
    if kind == Share.Kind.PROTECTED:
        if password is None or password == "":
            password = secret = _generated_password()
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise ShareRefused(
                "params",
                f"password: {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            )
    elif password:
        raise ShareRefused("params", "a password only protects a self_protected_link")
    calls = _find(list(dict.fromkeys(cdr_ids)), call_id, cid_interval, effective(creator).scope)
    token = secrets.token_urlsafe(32)
    share = Share.objects.create(
        token_hash=digest(token),
        kind=kind,
        created_by=creator,
        expires_at=timezone.now() + dt.timedelta(days=days),
        cdr_ids=[c.cdr_id for c in calls],
        call_id=(call_id or calls[0].call_id)[:255],
        rtp=rtp,
        sip_history=sip_history,
        anon_ips=anon_ips,
        anon_key=secrets.token_hex(32),
        password_hash=make_password(password) if kind == Share.Kind.PROTECTED else "",
    )
    audit.record(
        AuditEvent.Action.SHARE_CREATE,
        user=creator,
        request=request,
        face=face,
        object_id=share.pk,
        kind=kind,
        cdr_ids=share.cdr_ids,
        rtp=rtp,
        sip_history=sip_history,
        anon_ips=anon_ips,
        expires=share.expires_at.isoformat(),
    )
    return NewShare(share, token, secret)


def share_site() -> str:
    """``scheme://host`` of share_link URLs ("" = the host the request came to)."""
    return share_site_of(settings.BRAND_SHARESITE, settings.BRAND_DOMAIN)


def url(share: Share, token: str, request=None) -> str:
    """The link: share_link on the share site, the others on the host that was asked."""
    path = reverse("sharing:page", args=[token])
    site = share_site() if share.kind == Share.Kind.PUBLIC else ""
    if site:
        return site + path
    return request.build_absolute_uri(path) if request is not None else path


def revoke(share: Share, by=None, *, request=None, face: str = "") -> bool:
    """Revoke a share (False when it already was)."""
    updated = Share.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    share.refresh_from_db()
    if updated:
        audit.record(
            AuditEvent.Action.SHARE_USE,
            user=by,
            request=request,
            face=face,
            object_id=share.pk,
            what="revoke",
        )
    return bool(updated)


# ---------------------------------------------------------------------------
# Opening
# ---------------------------------------------------------------------------


def visit(share: Share | None, request, what: str, *, ok: bool = True, **details) -> None:
    """Audit one visit (a page, a download; refused ones with ``ok=False``)."""
    viewer = getattr(request, "user", None)
    viewer = viewer if viewer is not None and viewer.is_authenticated else None
    audit.record(
        AuditEvent.Action.SHARE_USE,
        user=viewer,
        username="" if viewer is not None else "anonymous",
        request=request,
        face=FACE,
        object_id=share.pk if share is not None else "",
        success=ok,
        what=what,
        **details,
    )
    if ok and share is not None:
        Share.objects.filter(pk=share.pk).update(uses=F("uses") + 1, last_used_at=timezone.now())


def find(token: str, request=None, what: str = "page") -> Share:
    """The share of a token; 404 for an unknown one, 410 for a revoked or expired one."""
    share = None
    if TOKEN_RE.match(token or ""):
        share = Share.objects.select_related("created_by").filter(token_hash=digest(token)).first()
    if share is None:
        visit(None, request, what, ok=False, refused="unknown link")
        raise ShareRefused("missing", "this share link does not exist")
    if share.revoked:
        visit(share, request, what, ok=False, refused="revoked")
        raise ShareRefused("gone", "this share link was revoked")
    if share.expired:
        visit(share, request, what, ok=False, refused="expired")
        raise ShareRefused("gone", "this share link has expired")
    return share


def _since() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.SHARE_PASSWORD_WINDOW_SECONDS)


def _failures(**where) -> int:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.SHARE_USE,
        success=False,
        face=FACE,
        time__gte=_since(),
        details__refused="password",
        **where,
    ).count()


def check_throttle(share: Share, request) -> None:
    """429 once the link (or the client address) had too many wrong passwords lately."""
    minutes = max(1, settings.SHARE_PASSWORD_WINDOW_SECONDS // 60)
    if _failures(object_id=str(share.pk)) >= settings.SHARE_PASSWORD_MAX_FAILURES:
        visit(share, request, "password", ok=False, refused="throttled")
        raise ShareRefused(
            "throttled",
            f"too many wrong passwords for this link; try again in {minutes} minutes",
        )
    ip = audit.client_ip(request)
    if ip and _failures(ip=ip) >= settings.SHARE_PASSWORD_MAX_FAILURES_IP:
        visit(share, request, "password", ok=False, refused="throttled")
        raise ShareRefused(
            "throttled",
            f"too many wrong passwords from this address; try again in {minutes} minutes",
        )


def check_share_password(share: Share, password: str, request) -> bool:
    """Throttled password check of a protected link; a wrong one is audited (and counted)."""
    check_throttle(share, request)
    if (
        password
        and len(password) <= MAX_PASSWORD_LENGTH
        and check_password(password, share.password_hash)
    ):
        return True
    visit(share, request, "password", ok=False, refused="password")
    return False


def calls_for(share: Share, viewer=None) -> list[CallMedia]:
    """The shared calls as the creator may see them today (and the visitor, for a login
    link); ShareRefused otherwise."""
    creator = share.created_by
    if not _usable(creator) or not _may(creator, ("can_cdr",)):
        raise ShareRefused(
            "gone", "this share link no longer works: its creator may no longer share it"
        )
    try:
        calls = media.find_calls(share.cdr_ids, effective(creator).scope)
    except NoSuchCdr:
        raise ShareRefused(
            "gone", "this share link no longer works: the call is not available"
        ) from None
    if share.kind == Share.Kind.LOGIN:
        if viewer is None or not viewer.is_authenticated:
            raise ShareRefused("login", "log in to open this link")
        if not _usable(viewer) or not _may(viewer, ("can_cdr",)):
            raise ShareRefused("permission", "your account may not see calls (can_cdr)")
        try:
            media.find_calls(share.cdr_ids, effective(viewer).scope)
        except NoSuchCdr:
            raise ShareRefused("permission", "your account may not see this call") from None
    return calls


# ---------------------------------------------------------------------------
# What a share shows (anonymised when asked)
# ---------------------------------------------------------------------------


def ip_map(share: Share, calls: Sequence[CallMedia]) -> IpMap | None:
    """The share's consistent address map (None without anonIps)."""
    if not share.anon_ips:
        return None
    known: list[str | bytes | None] = []
    for call in calls:
        known += [call.sipcallerip, call.sipcalledip]
        for hint in call.hints:
            known += [getattr(hint, "saddr", None), getattr(hint, "daddr", None)]
    return IpMap(
        bytes.fromhex(share.anon_key), known=[k for k in known if isinstance(k, (str, bytes))]
    )


def _ip_text(ips: IpMap | None, value):
    if ips is None or value is None:
        return value
    if isinstance(value, str):
        try:
            ipaddress.ip_address(value)
            return ips.address(value)
        except ValueError:
            return ips.text(value)
    return value


SUMMARY_FIELDS: Final = (
    "ID", "calldate", "callend", "duration", "connect_duration", "caller", "callername",
    "caller_domain", "called", "called_domain", "sipcallerip", "sipcallerport", "sipcalledip",
    "sipcalledport", "lastSIPresponseNum", "lastSIPresponse", "whohanged", "fbasename",
)  # fmt: skip


def summaries(share: Share, calls: Sequence[CallMedia], ips: IpMap | None) -> list[dict]:
    """One small dict per shared CDR (no other column of the application)."""
    creator_scope = effective(share.created_by).scope
    rows = {r["ID"]: r for r in fetch_rows(CdrFilter(cdr_ids=list(share.cdr_ids)), creator_scope)}
    out = []
    for call in calls:
        row = rows.get(call.cdr_id, {})
        item = {k: row.get(k) for k in SUMMARY_FIELDS}
        for side in ("a", "b"):
            payload = row.get(f"{side}_payload")
            item[f"{side}_codec"] = codec_name(payload) if payload is not None else None
        item["callId"] = item.pop("fbasename") or call.call_id
        for key in ("sipcallerip", "sipcalledip", "callId", "caller_domain", "called_domain",
                    "caller", "called", "callername"):  # fmt: skip
            item[key] = _ip_text(ips, item.get(key))
        out.append(item)
    return out


def _message(m: SipMessage, ips: IpMap) -> SipMessage:
    return replace(
        m,
        src=ips.address(m.src) or m.src,
        dst=ips.address(m.dst) or m.dst,
        first_line=ips.text(m.first_line),
        headers=[(name, ips.text(value)) for name, value in m.headers],
        body=ips.text(m.body),
    )


def _stream(s: RtpStream, ips: IpMap) -> RtpStream:
    return replace(s, src=ips.address(s.src) or s.src, dst=ips.address(s.dst) or s.dst)


def _dtmf(d: DtmfEvent, ips: IpMap) -> DtmfEvent:
    return replace(d, src=ips.address(d.src) or d.src, dst=ips.address(d.dst) or d.dst)


def flow(share: Share, calls: Sequence[CallMedia], ips: IpMap | None, *, rtp: bool) -> CallFlow:
    """The calls' SIP history (and RTP streams with ``rtp``), anonymised with ``ips``."""
    history = call_flow(calls, rtp=rtp)
    if ips is None:
        return history
    return CallFlow(
        messages=[_message(m, ips) for m in history.messages],
        streams=[_stream(s, ips) for s in history.streams],
        dtmf=[_dtmf(d, ips) for d in history.dtmf],
        cdr_ids=history.cdr_ids,
        notes=[ips.text(n) for n in history.notes],
    )


def pcap(
    share: Share, calls: Sequence[CallMedia], ips: IpMap | None
) -> tuple[Iterator[bytes], str]:
    """The calls' SIP+RTP pcap (anonymised with ``ips``) and its download name."""
    chunks = media.pcap_stream(calls, rtp=True)
    if ips is None:
        return chunks, calls[0].download_name("pcap")
    return anonymize_pcap(chunks, ips), f"share-{share.pk}.pcap"


def recording(share: Share, call: CallMedia) -> MediaFile:
    """The call's recording as WAV, named after the share when addresses are hidden."""
    item = media.recording(call, fmt="wav")
    if share.anon_ips:
        item.filename = f"share-{share.pk}-{call.cdr_id}.wav"
    return item
