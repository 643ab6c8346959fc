"""An HTTPS identity-provider stand-in for the Entra ID and Google tests (the real ones are
unreachable here): OpenID discovery, authorize (→ 302 with a code), token (PKCE checked when
used), JWKS, and real RS256-signed id_tokens with a ``kid``. TLS from a test CA (trustme).

Shaped like Entra ID under ``/<tenant>/`` (v2.0 discovery, ``oid``/``tid``/``groups``/``roles``
claims, ``client_info``) and like Google under ``/google/`` (``hd``, ``email_verified``).
A test says who signs in next (``next_claims``) and how the token is spoiled (``tamper``):
``forged`` (signed by another key under the real kid), ``audience``, ``expired``, ``nonce``,
``issuer``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import trustme
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT = "0d5d2c4e-vmgui-test-tenant"
ENTRA_CLIENT = "vmgui-entra-client"
ENTRA_SECRET = "entra-client-secret"
GOOGLE_CLIENT = "vmgui-google-client.apps.example"
GOOGLE_SECRET = "google-client-secret"
KID = "stand-in-key-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class IdentityProvider:
    def __init__(self, ca_path: str) -> None:
        self.ca = trustme.CA()
        self.ca.cert_pem.write_to_path(ca_path)
        self.ca_path = ca_path
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.forger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.next_claims: dict = {}
        self.tamper: str | None = None
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> IdentityProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the discovery documents say -------------------------------------------------

    def entra_issuer(self) -> str:
        return f"{self.base}/{TENANT}/v2.0"

    def google_issuer(self) -> str:
        return f"{self.base}/google"

    def discovery(self, path: str) -> dict | None:
        if path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            root = f"{self.base}/{TENANT}"
            return {
                "issuer": self.entra_issuer(),
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["pairwise"],
            }
        if path == "/google/.well-known/openid-configuration":
            return {
                "issuer": self.google_issuer(),
                "authorization_endpoint": f"{self.base}/google/auth",
                "token_endpoint": f"{self.base}/google/token",
                "jwks_uri": f"{self.base}/google/certs",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"],
            }
        return None

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=KID, use="sig", alg="RS256")
        return {"keys": [jwk]}

    # --- the flow ------------------------------------------------------------------------

    def authorize(self, query: dict, issuer: str) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "client_id": query.get("client_id", ""),
            "redirect_uri": query.get("redirect_uri", ""),
            "nonce": query.get("nonce", ""),
            "challenge": query.get("code_challenge", ""),
            "claims": dict(self.next_claims),
            "issuer": issuer,
        }
        sep = "&" if "?" in query["redirect_uri"] else "?"
        return (
            query["redirect_uri"] + sep + urlencode({"code": code, "state": query.get("state", "")})
        )

    def token(self, form: dict, authorization: str) -> tuple[int, dict]:
        self.token_requests.append(form)
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        expected = {ENTRA_CLIENT: ENTRA_SECRET, GOOGLE_CLIENT: GOOGLE_SECRET}
        if client_id != grant["client_id"] or expected.get(client_id) != secret:
            return 401, {"error": "invalid_client"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "PKCE verification failed",
                }
        now = int(time.time())
        claims = {
            "iss": grant["issuer"],
            "aud": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": grant["nonce"],
            **grant["claims"],
        }
        key = self.key
        if self.tamper == "forged":
            key = self.forger_key
        elif self.tamper == "audience":
            claims["aud"] = "some-other-application"
        elif self.tamper == "expired":
            claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
        elif self.tamper == "nonce":
            claims["nonce"] = "a-nonce-from-another-sign-in"
        elif self.tamper == "issuer":
            claims["iss"] = "https://login.evil.example/v2.0"
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
        answer = {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(24),
            "expires_in": 3600,
            "scope": "openid profile email",
            "id_token": id_token,
        }
        if "oid" in claims:
            info = {"uid": claims["oid"], "utid": claims.get("tid", "")}
            answer["client_info"] = _b64(json.dumps(info).encode())
        return 200, answer


def _handler(idp: IdentityProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            document = idp.discovery(url.path)
            if document is not None:
                return self._json(200, document)
            if url.path in (f"/{TENANT}/discovery/v2.0/keys", "/google/certs"):
                return self._json(200, idp.jwks())
            if url.path in (f"/{TENANT}/oauth2/v2.0/authorize", "/google/auth"):
                issuer = (
                    idp.entra_issuer() if url.path.startswith(f"/{TENANT}") else idp.google_issuer()
                )
                self.send_response(302)
                self.send_header("Location", idp.authorize(query, issuer))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if url.path in (f"/{TENANT}/oauth2/v2.0/token", "/google/token"):
                status, body = idp.token(form, self.headers.get("Authorization", ""))
                return self._json(status, body)
            return self._json(404, {"error": "not_found"})

    return Handler
