"""Creating, checking and revoking API tokens (plain data in, plain data out).

A token reads ``vmg_<prefix>_<secret>``: ``prefix`` (8 random hex characters) finds the row,
``secret`` (43 URL-safe characters, 256 random bits) proves possession and is stored only as
its SHA-256. Checks are constant-time; every refusal says why without revealing whether a
prefix exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from typing import Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import principals
from accounts.restrictions import parse_networks
from api.rest.models import ApiToken

TOKEN_RE: Final = re.compile(r"^vmg_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
MAX_VALID_DAYS: Final = 3650
# last_used_at is written at most this often per token: a polling script must not turn every
# read into a write.
LAST_USED_RESOLUTION: Final = dt.timedelta(minutes=1)


class TokenRefused(Exception):
    """The presented token cannot be used; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token text, shown once


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def clean_allowed_ips(text: str) -> str:
    """The allowed-IP list normalised (one network per line); ValidationError names a bad entry."""
    return "\n".join(parse_networks(text))


def create(
    user,
    name: str,
    *,
    read_only: bool = True,
    valid_days: int | None = None,
    allowed_ips: str = "",
) -> NewToken:
    """A new token for ``user``; the returned ``secret`` is the only time the token is visible."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("name: 1 to 100 characters")
    if valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ValidationError(f"valid_days: 1 to {MAX_VALID_DAYS}")
    networks = clean_allowed_ips(allowed_ips or "")
    expires = timezone.now() + dt.timedelta(days=valid_days) if valid_days else None
    with transaction.atomic():
        while True:  # 2^32 prefixes: a collision is rare, but the column is unique
            prefix = secrets.token_hex(4)
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        secret_part = secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=_digest(secret_part),
            expires_at=expires,
            read_only=read_only,
            allowed_ips=networks,
        )
    return NewToken(token, f"vmg_{prefix}_{secret_part}")


def _ip_allowed(token: ApiToken, ip: str | None) -> bool:
    if not token.allowed_ips.strip():
        return True
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in token.allowed_ips.split()
    )


def verify(text: str, ip: str | None) -> ApiToken:
    """The active token ``text`` names, used from ``ip``; else TokenRefused."""
    match = TOKEN_RE.match(text or "")
    if not match:
        raise TokenRefused("malformed API token")
    prefix, secret_part = match.groups()
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    expected = token.digest if token else _digest("x" * 43)
    if not hmac.compare_digest(expected, _digest(secret_part)) or token is None:
        raise TokenRefused("invalid API token")
    if token.revoked_at is not None:
        raise TokenRefused("this API token was revoked")
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("this API token has expired")
    if not _ip_allowed(token, ip):
        raise TokenRefused("this API token is not allowed from this address")
    _stamp(token, ip, now)
    return token


def _stamp(token: ApiToken, ip: str | None, now: dt.datetime) -> None:
    """Record when (and from where) the token was last used, at most once a minute."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at, token.last_used_ip = now, ip


# --- tokens verified earlier (per process, re-validated through the shared cache) ------------


_verified = principals.PrincipalCache()


def remembered(text: str, ip: str | None) -> ApiToken | None:
    """The token ``text`` verified earlier from ``ip`` (its owner not blocked), when nothing
    changed since: one shared-cache read instead of the token and profile queries.

    The versions are those of ``accounts.principals``: any save or delete of a user, profile,
    group or token (and ``revoke``, which calls ``permissions_changed``) changes them, so a
    revoked token, a blocked owner or a changed right is refused or applied at the next
    request on every worker. Expiry is checked against the clock every time.
    """
    token = _verified.get((text,), ip)
    if token is None:
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        _verified.forget((text,))
        return None
    _stamp(token, ip, now)
    return token


def remember(text: str, ip: str | None, token: ApiToken, versions: tuple | None) -> None:
    """Keep ``token`` (checked in full under ``versions``) for VMGUI_API_AUTH_CACHE_SECONDS."""
    _verified.remember((text,), ip, token, token.user_id, versions)


def forget_all() -> None:
    _verified.clear()


def revoke(token: ApiToken) -> bool:
    """Revoke ``token``; False when it already was."""
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    principals.permissions_changed()  # an update() sends no signal: remembered tokens go now
    return bool(updated)
