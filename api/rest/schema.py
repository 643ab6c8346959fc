"""OpenAPI descriptions drf-spectacular cannot infer (our authentication schemes)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.rest.authentication.BearerTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "vmg_<prefix>_<secret>",
            "description": "An API token (POST /api/v1/tokens/ or the admin); it acts as its owner.",
        }


class GuiSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.rest.authentication.GuiSessionAuthentication"
    name = "guiSession"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details (application/problem+json).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "per parameter: its messages",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "retry_after": {"type": "integer"},
    },
    "required": ["type", "title", "status"],
}
COMMON_ERRORS = {
    "400": "a parameter cannot be used (detail names it)",
    "401": "no, an invalid, expired or revoked token",
    "403": "the caller lacks the permission (detail names the flag) or the token is read-only",
    "404": "no such object, or one outside the caller's restrictions",
    "429": "too many requests for this token (Retry-After)",
    "503": "the database or a sensor cannot be reached (Retry-After)",
}
MEDIA_ERRORS = {"422": "the media cannot be produced (codec, corrupt or missing capture)"}
CONFLICT = {"409": "the object is not in a state that allows this (e.g. already revoked)"}


def add_problem_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: the problem JSON answers of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            errors = dict(COMMON_ERRORS)
            if "/cdrs/{cdr_id}/" in path and not path.endswith("/{cdr_id}/"):
                errors.update(MEDIA_ERRORS)
            if method in ("delete", "post", "put", "patch"):
                errors.update(CONFLICT)
            responses = operation.setdefault("responses", {})
            for code, text in errors.items():
                responses.setdefault(
                    code,
                    {"description": text, "content": {"application/problem+json": {"schema": ref}}},
                )
    return result
