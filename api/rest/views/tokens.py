"""``/api/v1/tokens/``: the caller's own API tokens (create → shown once, list, revoke)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from api.rest import tokens
from api.rest.models import ApiToken
from api.rest.problems import problem


class TokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "prefix", "created_at", "expires_at", "last_used_at", "last_used_ip",
            "read_only", "allowed_ips", "revoked_at", "active",
        ]  # fmt: skip
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    read_only = serializers.BooleanField(default=True)
    valid_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=tokens.MAX_VALID_DAYS
    )
    allowed_ips = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="the secret token: shown only in this answer")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenList(APIView):
    @extend_schema(responses={200: TokenSerializer(many=True)}, operation_id="tokens_list")
    def get(self, request):
        mine = ApiToken.objects.filter(user=request.user)
        return Response(TokenSerializer(mine, many=True).data)

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: NewTokenSerializer},
        operation_id="tokens_create",
    )
    def post(self, request):
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            new = tokens.create(request.user, **data.validated_data)
        except ValidationError as exc:
            return problem(400, "; ".join(exc.messages))
        audit.record(
            "token_create", user=request.user, request=request, face="rest",
            object_id=new.token.prefix, read_only=new.token.read_only,
        )  # fmt: skip
        body = TokenSerializer(new.token).data
        body["token"] = new.secret
        return Response(body, status=201)


class TokenDetail(APIView):
    @extend_schema(responses={200: TokenSerializer}, operation_id="tokens_retrieve")
    def get(self, request, token_id: int):
        token = ApiToken.objects.filter(user=request.user, pk=token_id).first()
        if token is None:
            return problem(404, f"no token {token_id}")
        return Response(TokenSerializer(token).data)

    @extend_schema(request=None, responses={204: None}, operation_id="tokens_revoke")
    def delete(self, request, token_id: int):
        token = ApiToken.objects.filter(user=request.user, pk=token_id).first()
        if token is None:
            return problem(404, f"no token {token_id}")
        if not tokens.revoke(token):
            return problem(409, "this token is already revoked")
        audit.record(
            "token_revoke", user=request.user, request=request, face="rest", object_id=token.prefix
        )
        return Response(status=204)
