"""Two-factor authentication (TOTP, RFC 6238) after the password: enrolment with a QR code,
codes computed here independently of django-otp, recovery codes, admin reset; a hook or a
provider can require it; the session is only logged in after the second factor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from tests.accounts.login.conftest import error_of, events, make_local_user, session_user, sign_in

pytestmark = pytest.mark.django_db


def rfc6238(secret_base32: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """TOTP as RFC 6238 / RFC 4226 define it (HMAC-SHA1, dynamic truncation)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def test_rfc6238_reference_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits)
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert rfc6238(secret, at=59, digits=8) == "94287082"


def enrol(client: Client, username: str, password: str) -> tuple[str, list[str]]:
    response = sign_in(client, username, password)
    assert response.status_code == 302 and response["Location"] == "/login/2fa/"
    page = client.get("/login/2fa/").content.decode()
    assert "<svg" in page  # the QR code, inline
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page).group(1)
    done = client.post("/login/2fa/", {"code": rfc6238(secret)})
    assert done.status_code == 200, error_of(done)
    codes = re.findall(r"<li>([0-9a-z]+)</li>", done.content.decode())
    return secret, codes


@pytest.fixture
def secure_user(db):
    return make_local_user("sara", "sara-pw-123", req_2fa=True)


def test_a_user_needing_2fa_is_not_logged_in_before_the_code(secure_user):
    client = Client()
    sign_in(client, "sara", "sara-pw-123")
    assert session_user(client) is None
    assert client.get("/audit/").status_code == 302  # still anonymous


def test_enrolment_shows_a_qr_code_and_gives_recovery_codes(secure_user):
    client = Client()
    secret, codes = enrol(client, "sara", "sara-pw-123")
    assert session_user(client) == "sara"
    assert len(codes) == 10 and len(set(codes)) == 10
    device = TOTPDevice.objects.get(user=secure_user)
    assert device.confirmed and base64.b32encode(device.bin_key).decode().rstrip("=") == secret
    (ok,) = events(AuditEvent.Action.LOGIN_OK, username="sara")
    assert ok.details == {"method": "local", "second_factor": "totp"}


def test_a_later_sign_in_asks_for_a_computed_code(secure_user):
    secret, _ = enrol(Client(), "sara", "sara-pw-123")
    client = Client()
    sign_in(client, "sara", "sara-pw-123")
    page = client.get("/login/2fa/").content.decode()
    assert "<svg" not in page and "authenticator app" in page
    # the code of the next step: django-otp refuses the one already used at enrolment
    response = client.post("/login/2fa/", {"code": rfc6238(secret, at=time.time() + 30)})
    assert response.status_code == 302 and session_user(client) == "sara"


def test_a_wrong_code_is_refused_audited_and_throttled(secure_user, settings):
    settings.LOGIN_MAX_FAILURES_USER = 3
    secret, _ = enrol(Client(), "sara", "sara-pw-123")
    client = Client()
    sign_in(client, "sara", "sara-pw-123")
    wrong = "000000" if rfc6238(secret) != "000000" else "111111"
    response = client.post("/login/2fa/", {"code": wrong})
    assert "wrong code" in response.content.decode() and session_user(client) is None
    (failed,) = events(AuditEvent.Action.LOGIN_FAILED, username="sara")
    assert failed.details["method"] == "totp"
    client.post("/login/2fa/", {"code": wrong})
    client.post("/login/2fa/", {"code": wrong})
    response = client.post("/login/2fa/", {"code": rfc6238(secret, at=time.time() + 30)})
    assert "too many failed logins" in error_of(response)
    assert session_user(client) is None


def test_a_recovery_code_works_once(secure_user):
    _, codes = enrol(Client(), "sara", "sara-pw-123")
    client = Client()
    sign_in(client, "sara", "sara-pw-123")
    assert client.post("/login/2fa/", {"code": codes[0]}).status_code == 302
    assert session_user(client) == "sara"
    again = Client()
    sign_in(again, "sara", "sara-pw-123")
    assert "wrong code" in again.post("/login/2fa/", {"code": codes[0]}).content.decode()
    (ok,) = events(AuditEvent.Action.LOGIN_OK, username="sara", details__second_factor="recovery")
    assert ok


def test_the_second_factor_step_expires(secure_user, monkeypatch):
    client = Client()
    sign_in(client, "sara", "sara-pw-123")
    from accounts.login import flow

    real = time.time
    monkeypatch.setattr(flow.time, "time", lambda: real() + flow.PENDING_SECONDS + 1)
    assert client.get("/login/2fa/")["Location"] == "/login/"


def test_the_2fa_page_without_a_password_step_goes_back_to_sign_in(db):
    assert Client().get("/login/2fa/")["Location"] == "/login/"


def test_an_admin_reset_makes_the_user_enrol_again(secure_user, capsys):
    enrol(Client(), "sara", "sara-pw-123")
    call_command("custom_login", "--reset-2fa", "sara")
    assert "2 two-factor device(s) removed" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=secure_user).exists()
    assert events(AuditEvent.Action.PERMISSION_CHANGE, object_id=f"user:{secure_user.pk}")
    enrol(Client(), "sara", "sara-pw-123")


def test_a_hook_can_require_2fa(with_hook):
    client = Client()
    response = sign_in(client, "secure", "secure-secret")
    assert response["Location"] == "/login/2fa/"
    assert session_user(client) is None
    enrol(Client(), "secure", "secure-secret")
