"""Two-factor authentication: TOTP (RFC 6238) with django-otp, recovery codes, admin reset.

* enrolment: an unconfirmed ``TOTPDevice`` (30 s, 6 digits, SHA-1: what authenticator apps
  read), shown as a QR code (inline SVG made by segno, no external service) and as text;
  the first correct code confirms it and creates ``RECOVERY_CODES`` single-use recovery codes
  (a django-otp ``StaticDevice``), shown once;
* verification: a TOTP code (django-otp tolerates one step of clock drift and refuses a code
  already used) or one recovery code (used up);
* reset (``manage.py custom_login reset-2fa USER``, or deleting the devices in the admin):
  the user enrols again at the next sign-in.
"""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10
_DEVICE_NAME = "vmgui"
_RECOVERY_NAME = "recovery"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enrolled(user) -> bool:
    return confirmed_device(user) is not None


def enrolment_device(user) -> TOTPDevice:
    """The user's unconfirmed device (created on first need; kept while enrolment goes on)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_DEVICE_NAME, confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def provisioning_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI authenticator apps read (issuer from VMGUI_2FA_ISSUER)."""
    from urllib.parse import quote, urlencode

    issuer = settings.TOTP_ISSUER
    label = quote(f"{issuer}:{device.user.get_username()}")
    query = urlencode(
        {
            "secret": secret_base32(device),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code."""
    return segno.make(provisioning_uri(device), error="m").svg_inline(scale=4, border=2)


def _clean(code: str) -> str:
    return "".join((code or "").split())[:32]


def confirm_enrolment(user, code: str) -> list[str] | None:
    """Confirm the pending device with a correct code; the new recovery codes, or None."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(_clean(code)):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return new_recovery_codes(user)


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODES new ones (shown once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def verify(user, code: str) -> tuple[object, str] | None:
    """Check a TOTP or recovery code: (device, "totp" | "recovery") or None."""
    code = _clean(code)
    if not code:
        return None
    device = confirmed_device(user)
    if device is not None and code.isdigit() and device.verify_token(code):
        return device, "totp"
    for static in StaticDevice.objects.filter(user=user, confirmed=True):
        if static.verify_token(code):  # removes the used code
            return static, "recovery"
    return None


def reset(user) -> int:
    """Delete every TOTP device and recovery code of the user; how many devices went."""
    deleted = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    deleted += StaticDevice.objects.filter(user=user).delete()[1].get("otp_static.StaticDevice", 0)
    return deleted
