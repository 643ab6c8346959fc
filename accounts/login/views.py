"""The login page, the Entra ID / Google callbacks and the two-factor step.

Plain pages (the operator GUI styles them later). Each sign-in ends in ``_complete``: straight
into the session, or first to the TOTP step when the user needs a second factor (the session is
only logged in after it). Refusals show their reason: blocked (with the blocked_reason), id
collision, throttled, provider unreachable, invalid token.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from accounts import audit, throttle
from accounts.login import flow, oidc, totp
from accounts.login.errors import SignInError
from accounts.login.forms import CodeForm, PasswordForm
from accounts.models import AuditEvent

_NEXT_KEY = "vmgui_login_next"


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _providers() -> list[dict]:
    providers = []
    if oidc.entra_enabled():
        providers.append({"url": reverse("login_entra"), "label": "Sign in with Microsoft"})
    if oidc.google_enabled():
        providers.append({"url": reverse("login_google"), "label": "Sign in with Google"})
    return providers


def _page(request, form, *, error: str = "", kind: str = "", status: int = 200) -> HttpResponse:
    return render(
        request,
        "login/login.html",
        {
            "form": form,
            "error": error,
            "error_kind": kind,
            "providers": _providers(),
            "methods": flow.password_methods(),
        },
        status=status,
    )


def _complete(request: HttpRequest, sign_in: flow.SignIn, next_url: str) -> HttpResponse:
    if sign_in.needs_2fa:
        flow.start_pending(request, sign_in, next_url)
        return redirect("login_2fa")
    login(request, sign_in.user, backend=sign_in.backend)
    flow.record_success(request, sign_in)
    return HttpResponseRedirect(next_url)


def _callback_uri(request: HttpRequest, name: str) -> str:
    path = reverse(name)
    if settings.LOGIN_CALLBACK_BASE:
        return settings.LOGIN_CALLBACK_BASE.rstrip("/") + path
    return request.build_absolute_uri(path)


@never_cache
@csrf_protect
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    """Username/password form and the buttons of the enabled providers."""
    if request.method == "GET":
        form = PasswordForm(initial={"next": request.GET.get("next", "")[:2000]})
        return _page(request, form)
    form = PasswordForm(request.POST)
    if not form.is_valid():
        return _page(request, form, error="enter your user name and password", kind="failed")
    next_url = _safe_next(request, form.cleaned_data["next"])
    try:
        sign_in = flow.password_sign_in(
            request, form.cleaned_data["username"], form.cleaned_data["password"]
        )
    except SignInError as exc:
        return _page(
            request,
            PasswordForm(
                initial={
                    "username": form.cleaned_data["username"],
                    "next": form.cleaned_data["next"],
                }
            ),
            error=exc.reason,
            kind=exc.kind,
        )
    return _complete(request, sign_in, next_url)


def _provider_error(request, exc: SignInError) -> HttpResponse:
    return _page(request, PasswordForm(), error=exc.reason, kind=exc.kind)


def _start(request: HttpRequest, method: str, enabled: bool, start) -> HttpResponse:
    if not enabled:
        return redirect("login")
    request.session[_NEXT_KEY] = _safe_next(request, request.GET.get("next", "")[:2000])
    try:
        return start()
    except SignInError as exc:
        audit.record(
            AuditEvent.Action.LOGIN_REFUSED,
            request=request,
            face="gui",
            success=False,
            method=method,
            reason=exc.detail,
        )
        return _provider_error(request, exc)


def _finish(request: HttpRequest, method: str, finish) -> HttpResponse:
    try:
        answer = finish()
    except SignInError as exc:
        try:
            flow.refuse(exc, username="", method=method, request=request)
        except SignInError:
            pass
        return _provider_error(request, exc)
    try:
        sign_in = flow.accept_answer(answer, method, request=request)
    except SignInError as exc:
        return _provider_error(request, exc)
    return _complete(request, sign_in, request.session.pop(_NEXT_KEY, "") or reverse("home"))


@never_cache
@require_GET
def entra_start(request: HttpRequest) -> HttpResponse:
    return _start(
        request,
        "entra",
        oidc.entra_enabled(),
        lambda: HttpResponseRedirect(
            oidc.entra_start(request, _callback_uri(request, "login_entra_callback"))
        ),
    )


@never_cache
@require_GET
def entra_callback(request: HttpRequest) -> HttpResponse:
    if not oidc.entra_enabled():
        return redirect("login")
    return _finish(request, "entra", lambda: oidc.entra_finish(request))


@never_cache
@require_GET
def google_start(request: HttpRequest) -> HttpResponse:
    return _start(
        request,
        "google",
        oidc.google_enabled(),
        lambda: oidc.google_start(request, _callback_uri(request, "login_google_callback")),
    )


@never_cache
@require_GET
def google_callback(request: HttpRequest) -> HttpResponse:
    if not oidc.google_enabled():
        return redirect("login")
    return _finish(request, "google", lambda: oidc.google_finish(request))


@never_cache
@csrf_protect
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """The TOTP step after the password: enrolment (QR code) the first time, then a code."""
    current = flow.pending(request)
    if current is None:
        return redirect("login")
    sign_in, next_url = current
    user = sign_in.user
    enrolled = totp.is_enrolled(user)
    device = None if enrolled else totp.enrolment_device(user)
    context = {"user_name": user.get_username(), "enrolled": enrolled}
    if device is not None:
        context.update(qr_svg=totp.qr_svg(device), secret=totp.secret_base32(device))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            throttle.check(user.get_username(), audit.client_ip(request))
        except throttle.LoginThrottled as exc:
            flow.clear_pending(request)
            audit.record(
                AuditEvent.Action.LOGIN_THROTTLED,
                user=user,
                request=request,
                face="gui",
                success=False,
                method="totp",
                reason=exc.reason,
            )
            return _page(request, PasswordForm(), error=exc.reason, kind="throttled")
        code = form.cleaned_data["code"]
        if enrolled:
            verified = totp.verify(user, code)
            codes = None
        else:
            codes = totp.confirm_enrolment(user, code)
            verified = (totp.confirmed_device(user), "totp") if codes else None
        if verified is not None:
            flow.clear_pending(request)
            login(request, user, backend=sign_in.backend)
            otp_login(request, verified[0])
            flow.record_success(request, sign_in, second_factor=verified[1])
            if codes:
                return render(
                    request, "login/recovery_codes.html", {"codes": codes, "next": next_url}
                )
            return HttpResponseRedirect(next_url)
        audit.record(
            AuditEvent.Action.LOGIN_FAILED,
            user=user,
            request=request,
            face="gui",
            success=False,
            method="totp",
            reason="wrong two-factor code",
        )
        context["error"] = "wrong code; check your authenticator app's clock and try again"
    context["form"] = form if request.method == "POST" else CodeForm()
    return render(request, "login/second_factor.html", context)


@never_cache
@csrf_protect
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """/admin/login/: GET → the one login page (with its second factor), back to the admin
    after; a POST of the admin's form (same field names) is signed in like /login/'s."""
    if request.method == "POST":
        return login_page(request)
    target = request.GET.get("next", "")[:2000] or reverse("admin:index")
    return redirect(f"{reverse('login')}?{_query(next=target)}")


def _query(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)
