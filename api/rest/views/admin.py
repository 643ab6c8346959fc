"""``/api/v1/groups/`` and ``/api/v1/users/``: accounts management for admins.

Every change is validated like the Django admin (restriction lists parsed, unknown values named)
and audited as ``permission_change``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets

from accounts import audit
from accounts.flags import FLAGS
from accounts.models import RESTRICTION_PARSERS, AuditEvent, UserProfile, VmGroup
from accounts.permissions import load_profile
from api.rest.permissions import Admin, Authenticated, WritableToken

RESTRICTIONS = list(RESTRICTION_PARSERS)  # the old GUI's restriction lists


def _full_clean(instance) -> None:
    try:
        instance.full_clean(exclude=["user"] if isinstance(instance, UserProfile) else None)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from None


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = VmGroup
        fields = ["id", "name", "description", *RESTRICTIONS, *FLAGS]

    def validate(self, attrs):
        instance = VmGroup(**{**(self._current() if self.instance else {}), **attrs})
        instance.pk = self.instance.pk if self.instance else None
        _full_clean(instance)
        return attrs

    def _current(self) -> dict:
        return {f: getattr(self.instance, f) for f in self.Meta.fields if f != "id"}


class UserSerializer(serializers.Serializer):
    """A user with the profile fields of the old GUI (flags ``null`` = as the group says)."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(default=True)
    is_admin = serializers.BooleanField(source="is_superuser", default=False)
    password = serializers.CharField(write_only=True, required=False, min_length=8, max_length=256)
    group = serializers.PrimaryKeyRelatedField(
        queryset=VmGroup.objects.all(), allow_null=True, required=False
    )
    blocked = serializers.BooleanField(default=False)
    blocked_reason = serializers.CharField(max_length=255, required=False, allow_blank=True)
    req_2fa = serializers.BooleanField(default=False)

    def get_fields(self):
        fields = super().get_fields()
        for name in RESTRICTIONS:
            fields[name] = serializers.CharField(required=False, allow_blank=True, max_length=20000)
        for name, help_text in FLAGS.items():
            fields[name] = serializers.BooleanField(
                required=False, allow_null=True, help_text=help_text
            )
        return fields

    PROFILE = ["group", "blocked", "blocked_reason", "req_2fa", *RESTRICTIONS, *FLAGS]

    def to_representation(self, user):
        profile = load_profile(user)
        out = {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "is_active": user.is_active,
            "is_admin": user.is_superuser,
        }
        for name in self.PROFILE:
            value = getattr(profile, name if name != "group" else "group_id")
            out[name] = value
        return out

    def validate_username(self, value: str) -> str:
        users = get_user_model().objects.filter(username=value)
        if self.instance is not None:
            users = users.exclude(pk=self.instance.pk)
        if users.exists():
            raise serializers.ValidationError("a user with this name exists")
        return value

    def _save(self, user, data: dict):
        with transaction.atomic():
            for name in ("username", "email", "is_active"):
                if name in data:
                    setattr(user, name, data[name])
            if "is_superuser" in data:
                user.is_superuser = user.is_staff = data["is_superuser"]
            if data.get("password"):
                user.set_password(data["password"])
            elif user.pk is None:
                user.set_unusable_password()
            user.save()
            profile = load_profile(user)
            for name in self.PROFILE:
                if name in data:
                    setattr(profile, name, data[name])
            _full_clean(profile)
            profile.save()
        return user

    def create(self, validated_data):
        return self._save(get_user_model()(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


class _Audited:
    """Audit every change as ``permission_change`` (what changed, by whom)."""

    kind = ""

    def _audit(self, obj, change: str) -> None:
        audit.record(
            AuditEvent.Action.PERMISSION_CHANGE,
            user=self.request.user,
            request=self.request,
            face="rest",
            object_id=f"{self.kind} {obj.pk}",
            change=change,
            fields=sorted(k for k in self.request.data if k != "password"),
        )

    def perform_create(self, serializer):
        self._audit(serializer.save(), "create")

    def perform_update(self, serializer):
        self._audit(serializer.save(), "update")

    def perform_destroy(self, instance):
        self._audit(instance, "delete")
        instance.delete()


@extend_schema(tags=["admin"])
class GroupViewSet(_Audited, viewsets.ModelViewSet):
    kind = "group"
    serializer_class = GroupSerializer
    permission_classes = [Authenticated, WritableToken, Admin]
    queryset = VmGroup.objects.order_by("name")
    pagination_class = None


@extend_schema(tags=["admin"])
class UserViewSet(_Audited, viewsets.ModelViewSet):
    kind = "user"
    serializer_class = UserSerializer
    permission_classes = [Authenticated, WritableToken, Admin]
    queryset = get_user_model().objects.order_by("username")
    pagination_class = None
