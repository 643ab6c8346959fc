"""Microsoft Entra ID (msal) and Google (authlib) sign-in: authorization-code flows.

Both end in a spec-shaped ``LoginAnswer`` (accounts.login.answer) that the common flow
provisions with unique ids:

* **Entra ID**: msal runs the authorization-code flow with PKCE (``initiate_auth_code_flow``
  / ``acquire_token_by_auth_code_flow``). msal does not validate the id_token, so this module
  does, with PyJWT: RS256 signature against the tenant's JWKS (by ``kid``), ``iss`` = the
  tenant's issuer from its discovery document, ``aud`` = our client id, ``exp``/``iat``
  (60 s leeway), and ``nonce`` = SHA-256 of the flow's nonce. The id is derived from the
  tenant and object id (``tid``, ``oid``); ``groups`` (object ids) and ``roles`` (app
  roles) claims map to a vmgui group and flags.
* **Google**: authlib's Django client (discovery, state, nonce; it validates the id_token's
  signature, ``iss``, ``exp``, nonce; ``aud`` is pinned here to our client id). Only verified
  e-mail addresses of ``VMGUI_GOOGLE_HOSTED_DOMAINS`` (the ``hd`` claim) are accepted. The id
  is derived from Google's ``sub``.

HTTPS calls use the system's CA store, or ``VMGUI_LOGIN_CA_BUNDLE`` (then the process
environment's ``REQUESTS_CA_BUNDLE``/proxies are ignored, as requests would let them win).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import warnings
from urllib.parse import urlparse

import jwt
import requests
from django.conf import settings

from accounts.login.answer import LoginAnswer, parse_answer
from accounts.login.errors import ProviderUnavailable, TokenInvalid

logger = logging.getLogger("vmgui.login")

ENTRA_FLOW_KEY = "vmgui_entra_flow"
TIMEOUT = 10
_MICROSOFT_HOSTS = (
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
)
_TOKEN_REASON = "the identity provider's answer could not be verified; sign in again"


def derive_id(*parts: str) -> int:
    """A stable id 1 … 2^63-1 from a provider's identifiers (SHA-256, first 63 bits).

    Collisions between two users need ~3·10^9 users for a one-in-a-billion chance, and are
    refused like any other collision if they ever happen.
    """
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return (int.from_bytes(digest[:8], "big") & (2**63 - 1)) or 1


def http_session() -> requests.Session:
    session = requests.Session()
    if settings.LOGIN_CA_BUNDLE:
        # requests lets REQUESTS_CA_BUNDLE from the environment override ``verify``.
        session.trust_env = False
        session.verify = settings.LOGIN_CA_BUNDLE
    return session


def _map_groups(claims_groups: set[str], group_map: dict, flag_map: dict) -> dict:
    raw: dict = {}
    for external, (group_name,) in group_map.items():
        if external in claims_groups:
            raw["group_name"] = group_name
            break
    for external, flags in flag_map.items():
        if external == "*" or external in claims_groups:
            for flag in flags:
                raw[flag] = True
    return raw


# --- Microsoft Entra ID ---------------------------------------------------------------


def entra_enabled() -> bool:
    return bool(settings.ENTRA_CLIENT_ID)


def _entra_app(session: requests.Session):
    import msal

    host = urlparse(settings.ENTRA_AUTHORITY).hostname or ""
    try:
        return msal.ConfidentialClientApplication(
            settings.ENTRA_CLIENT_ID,
            client_credential=settings.ENTRA_CLIENT_SECRET,
            authority=settings.ENTRA_AUTHORITY,
            http_client=session,
            # Instance discovery asks Microsoft about the authority's host: only for theirs.
            instance_discovery=None if host in _MICROSOFT_HOSTS else False,
            timeout=TIMEOUT,
        )
    except (requests.RequestException, ValueError) as exc:
        logger.warning("Entra ID discovery at %s failed: %s", settings.ENTRA_AUTHORITY, exc)
        raise ProviderUnavailable(
            "Microsoft sign-in cannot be reached right now; try again later",
            f"Entra ID authority {settings.ENTRA_AUTHORITY}: {exc}",
        ) from None


def entra_start(request, redirect_uri: str) -> str:
    """Begin the code flow; the flow (state, nonce, PKCE verifier) waits in the session."""
    app = _entra_app(http_session())
    with warnings.catch_warnings():
        # msal recommends response_mode=form_post; a cross-site POST would arrive without the
        # (SameSite=Lax) session cookie that holds the flow, so the query mode it is (state,
        # PKCE and the nonce protect it).
        warnings.simplefilter("ignore", UserWarning)
        flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=redirect_uri)
    request.session[ENTRA_FLOW_KEY] = flow
    return flow["auth_uri"]


def _discovery(session: requests.Session) -> dict:
    url = settings.ENTRA_AUTHORITY.rstrip("/") + "/v2.0/.well-known/openid-configuration"
    try:
        response = session.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(
            "Microsoft sign-in cannot be reached right now; try again later",
            f"Entra ID discovery {url}: {exc}",
        ) from None


def validate_id_token(
    token: str, *, session: requests.Session, jwks_uri: str, issuer: str, audience: str, nonce: str
) -> dict:
    """Verify an RS256 id_token (signature by kid, iss, aud, exp, iat, nonce); its claims."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid(_TOKEN_REASON, f"id_token is not a JWT: {exc}") from None
    if header.get("alg") != "RS256":
        raise TokenInvalid(_TOKEN_REASON, f"id_token algorithm {header.get('alg')!r} is not RS256")
    try:
        response = session.get(jwks_uri, timeout=TIMEOUT)
        response.raise_for_status()
        keys = jwt.PyJWKSet.from_dict(response.json())
    except (requests.RequestException, ValueError, jwt.PyJWTError) as exc:
        raise ProviderUnavailable(
            "the identity provider cannot be reached right now; try again later",
            f"JWKS {jwks_uri}: {exc}",
        ) from None
    key = next((k for k in keys.keys if k.key_id == header.get("kid")), None)
    if key is None:
        raise TokenInvalid(_TOKEN_REASON, f"id_token signed with unknown key {header.get('kid')!r}")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            leeway=60,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenInvalid(_TOKEN_REASON, "id_token has expired") from None
    except jwt.InvalidAudienceError:
        raise TokenInvalid(_TOKEN_REASON, "id_token is for another application (aud)") from None
    except jwt.InvalidIssuerError:
        raise TokenInvalid(_TOKEN_REASON, "id_token comes from another issuer (iss)") from None
    except jwt.InvalidSignatureError:
        raise TokenInvalid(_TOKEN_REASON, "id_token signature is invalid (forged)") from None
    except jwt.PyJWTError as exc:
        raise TokenInvalid(_TOKEN_REASON, f"id_token rejected: {exc}") from None
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise TokenInvalid(_TOKEN_REASON, "id_token nonce does not match this sign-in (replay?)")
    return claims


def entra_finish(request) -> LoginAnswer:
    """The callback: redeem the code (msal), validate the id_token, build the answer."""
    flow = request.session.pop(ENTRA_FLOW_KEY, None)
    if not isinstance(flow, dict):
        raise TokenInvalid(
            "this sign-in has expired or was already used; start again",
            "Entra ID callback without a pending flow",
        )
    session = http_session()
    app = _entra_app(session)
    params = {
        k: request.GET.get(k, "")[:4096]
        for k in ("code", "state", "error", "error_description", "session_state", "client_info")
        if k in request.GET
    }
    try:
        result = app.acquire_token_by_auth_code_flow(flow, params)
    except (ValueError, RuntimeError) as exc:  # msal: state or nonce mismatch and the like
        why = "id_token nonce does not match this sign-in" if "nonce" in str(exc) else "rejected"
        raise TokenInvalid(_TOKEN_REASON, f"Entra ID callback {why} (msal: {exc})") from None
    except requests.RequestException as exc:
        raise ProviderUnavailable(
            "Microsoft sign-in cannot be reached right now; try again later",
            f"Entra ID token endpoint: {exc}",
        ) from None
    if "error" in result or not result.get("id_token"):
        raise TokenInvalid(
            "Microsoft sign-in did not complete; try again",
            f"Entra ID: {result.get('error')}: {str(result.get('error_description'))[:300]}",
        )
    discovery = _discovery(session)
    claims = validate_id_token(
        result["id_token"],
        session=session,
        jwks_uri=discovery.get("jwks_uri", ""),
        issuer=discovery.get("issuer", ""),
        audience=settings.ENTRA_CLIENT_ID,
        nonce=hashlib.sha256(str(flow.get("nonce", "")).encode()).hexdigest(),
    )
    return entra_answer(claims)


def entra_answer(claims: dict) -> LoginAnswer:
    oid, tid = str(claims.get("oid", "")), str(claims.get("tid", ""))
    username = str(
        claims.get("preferred_username") or claims.get("upn") or claims.get("email") or ""
    ).lower()
    if not oid or not username:
        raise TokenInvalid(_TOKEN_REASON, "Entra ID id_token has no oid or preferred_username")
    if "_claim_names" in claims and "groups" in claims.get("_claim_names", {}):
        logger.warning(
            "Entra ID user %s is in too many groups for the token; map app roles instead", username
        )
    groups = {str(g) for g in claims.get("groups", []) or []} | {
        str(r) for r in claims.get("roles", []) or []
    }
    raw = {
        "username": username,
        "id": derive_id("entra", tid, oid),
        "name": claims.get("name", ""),
        "email": claims.get("email") or (username if "@" in username else ""),
        **_map_groups(groups, settings.ENTRA_GROUP_MAP, settings.ENTRA_FLAG_MAP),
    }
    return parse_answer(raw, username, subject=f"{tid}/{oid}")


# --- Google -----------------------------------------------------------------------------


def google_enabled() -> bool:
    return bool(settings.GOOGLE_CLIENT_ID)


_google_apps: dict[tuple, object] = {}


def _google_app():
    from authlib.integrations.django_client import DjangoOAuth2App, OAuth
    from authlib.integrations.requests_client import OAuth2Session

    key = (
        settings.GOOGLE_CLIENT_ID,
        settings.GOOGLE_CLIENT_SECRET,
        settings.GOOGLE_METADATA_URL,
        settings.LOGIN_CA_BUNDLE,
    )
    if key in _google_apps:
        return _google_apps[key]
    kwargs = {"scope": "openid email profile", "timeout": TIMEOUT}
    if settings.LOGIN_CA_BUNDLE:
        kwargs.update(trust_env=False, verify=settings.LOGIN_CA_BUNDLE)

    class _Session(OAuth2Session):
        def request(self, method, url, **request_kwargs):
            request_kwargs.setdefault("timeout", TIMEOUT)
            return super().request(method, url, **request_kwargs)

    class _App(DjangoOAuth2App):
        client_cls = _Session

    kwargs.pop("timeout")
    oauth = OAuth()
    oauth.register(
        "google",
        client_id=settings.GOOGLE_CLIENT_ID,
        client_secret=settings.GOOGLE_CLIENT_SECRET,
        server_metadata_url=settings.GOOGLE_METADATA_URL,
        client_kwargs=kwargs,
        client_cls=_App,
    )
    app = oauth.create_client("google")
    _google_apps[key] = app
    return app


def google_start(request, redirect_uri: str):
    """A redirect to Google's consent page (authlib keeps state and nonce in the session)."""
    app = _google_app()
    extra = {}
    if len(settings.GOOGLE_HOSTED_DOMAINS) == 1:
        extra["hd"] = settings.GOOGLE_HOSTED_DOMAINS[0]  # a hint for the account chooser
    try:
        return app.authorize_redirect(request, redirect_uri, **extra)
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(
            "Google sign-in cannot be reached right now; try again later",
            f"Google metadata {settings.GOOGLE_METADATA_URL}: {exc}",
        ) from None


def google_finish(request) -> LoginAnswer:
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError  # authlib's JWT layer

    app = _google_app()
    metadata_issuer = None
    try:
        metadata_issuer = app.load_server_metadata().get("issuer")
        token = app.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "values": [metadata_issuer]},
                "aud": {"essential": True, "values": [settings.GOOGLE_CLIENT_ID]},
            },
        )
    except (AuthlibBaseError, JoseError) as exc:
        raise TokenInvalid(_TOKEN_REASON, f"Google id_token rejected: {exc!r}") from None
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(
            "Google sign-in cannot be reached right now; try again later", f"Google: {exc}"
        ) from None
    claims = token.get("userinfo")
    if not claims:
        raise TokenInvalid(_TOKEN_REASON, "Google answered without an id_token")
    return google_answer(dict(claims))


def google_answer(claims: dict) -> LoginAnswer:
    email = str(claims.get("email", "")).lower()
    domain = str(claims.get("hd", "")).lower()
    if claims.get("email_verified") is not True or not email:
        raise TokenInvalid(
            "your Google account has no verified e-mail address",
            f"Google account {email!r}: e-mail not verified",
        )
    if domain not in settings.GOOGLE_HOSTED_DOMAINS or not email.endswith("@" + domain):
        raise TokenInvalid(
            "this Google account is not allowed to sign in here (wrong organisation)",
            f"Google account {email!r}: hosted domain {domain or '(none)'!r} is not in VMGUI_GOOGLE_HOSTED_DOMAINS",
        )
    keys = {email, domain}
    raw = {
        "username": email,
        "id": derive_id("google", str(claims.get("sub", ""))),
        "name": claims.get("name", ""),
        "email": email,
        "group_name": settings.GOOGLE_GROUP,
        **_map_groups(keys, {}, settings.GOOGLE_FLAG_MAP),
    }
    return parse_answer(raw, email, subject=str(claims.get("sub", "")))
