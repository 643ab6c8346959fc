"""``/api/v1/shares/``: the caller's share links (create → the link shown once, list, revoke).

A thin adapter over ``sharing.service``: the same rules as api.php getShareURL and
utilities.php shareCdr (the caller must see the CDR; ``rtp`` needs can_download_audio and
can_pcap; the share never shows more than its creator may see at the time of each visit).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.rest.problems import problem
from sharing import service
from sharing.models import Share


class ShareSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="kind", read_only=True)
    active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Share
        fields = [
            "id", "type", "created_at", "expires_at", "revoked_at", "cdr_ids", "call_id",
            "rtp", "sip_history", "anon_ips", "uses", "last_used_at", "active",
        ]  # fmt: skip
        read_only_fields = fields


class ShareCreateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=service.KINDS, default=Share.Kind.PUBLIC)
    cdr_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="the CDR ids to share; or call_id",
    )
    call_id = serializers.CharField(required=False, max_length=1024, allow_blank=False)
    cid_interval = serializers.IntegerField(
        required=False, min_value=0, max_value=service.MAX_CID_INTERVAL, default=60
    )
    rtp = serializers.BooleanField(default=False, help_text="audio player and PCAP download")
    sip_history = serializers.BooleanField(default=True)
    anon_ips = serializers.BooleanField(default=False, help_text="replace every IP address")
    valid_days = serializers.IntegerField(required=False, min_value=1, max_value=36500)
    password = serializers.CharField(
        required=False,
        min_length=service.MIN_PASSWORD_LENGTH,
        max_length=service.MAX_PASSWORD_LENGTH,
        help_text="self_protected_link only; generated (and returned) when left out",
    )

    def validate(self, attrs):
        if not attrs.get("cdr_ids") and not attrs.get("call_id"):
            raise serializers.ValidationError({"cdr_ids": ["cdr_ids or call_id is required"]})
        return attrs


class NewShareSerializer(ShareSerializer):
    url = serializers.CharField(help_text="the link: shown only in this answer")
    password = serializers.CharField(
        required=False, help_text="a generated password of a protected link (shown once)"
    )

    class Meta(ShareSerializer.Meta):
        fields = [*ShareSerializer.Meta.fields, "url", "password"]
        read_only_fields = fields


def _refusal(exc: service.ShareRefused):
    return problem(exc.status if exc.status != 401 else 400, exc.reason)


class ShareList(APIView):
    @extend_schema(responses={200: ShareSerializer(many=True)}, operation_id="shares_list")
    def get(self, request):
        mine = Share.objects.filter(created_by=request.user)[: settings.REST_MAX_PAGE]
        return Response(ShareSerializer(mine, many=True).data)

    @extend_schema(
        request=ShareCreateSerializer,
        responses={201: NewShareSerializer},
        operation_id="shares_create",
    )
    def post(self, request):
        data = ShareCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            new = service.create(
                request.user,
                v["type"],
                cdr_ids=v.get("cdr_ids") or (),
                call_id=v.get("call_id", ""),
                cid_interval=v["cid_interval"],
                rtp=v["rtp"],
                sip_history=v["sip_history"],
                anon_ips=v["anon_ips"],
                valid_days=v.get("valid_days"),
                password=v.get("password"),
                request=request,
                face="rest",
            )
        except service.ShareRefused as exc:
            return _refusal(exc)
        body = ShareSerializer(new.share).data
        body["url"] = service.url(new.share, new.token, request)
        if new.password:
            body["password"] = new.password
        return Response(body, status=201)


class ShareDetail(APIView):
    @extend_schema(responses={200: ShareSerializer}, operation_id="shares_retrieve")
    def get(self, request, share_id: int):
        share = Share.objects.filter(created_by=request.user, pk=share_id).first()
        if share is None:
            return problem(404, f"no share {share_id}")
        return Response(ShareSerializer(share).data)

    @extend_schema(request=None, responses={204: None}, operation_id="shares_revoke")
    def delete(self, request, share_id: int):
        share = Share.objects.filter(created_by=request.user, pk=share_id).first()
        if share is None:
            return problem(404, f"no share {share_id}")
        if not service.revoke(share, request.user, request=request, face="rest"):
            return problem(409, "this share is already revoked")
        return Response(status=204)
