"""A ``LoginAnswer`` → the local user: unique-id enforcement, then user/profile/group/flags.

Unique ids (the spec's warning: two users returning one id share all settings):

* the first sign-in of an id binds it to that username (``ExternalIdentity``);
* another username returning a bound id is refused (``IdCollision``), and so is a bound
  username returning a different id, and a username that belongs to a local account (an
  external sign-in never takes over a local account, e.g. a local ``admin``);
* an admin resolves a collision by renaming the bound user (settings are kept) or by deleting
  the binding (``manage.py custom_login unbind ID``, or the admin page).

On every sign-in the answer replaces what an earlier one provisioned: name, e-mail, is_admin,
group, flags (a flag not returned is "as the group says") and restrictions (not returned =
none). ``blocked`` and ``req_2fa`` are not stored: they are applied to this sign-in
(accounts.login.flow), so that a local block or a 2FA requirement set by an admin stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.flags import FLAGS
from accounts.login.answer import LoginAnswer
from accounts.login.errors import AnswerInvalid, IdCollision
from accounts.models import RESTRICTION_PARSERS, ExternalIdentity, UserProfile, VmGroup

SOURCES = {
    "hook": UserProfile.Source.CUSTOM,
    "ldap": UserProfile.Source.LDAP,
    "entra": UserProfile.Source.ENTRA,
    "google": UserProfile.Source.GOOGLE,
}
_COLLISION = (
    "your account cannot sign in: its unique id is already used by another account "
    "(an id collision). An administrator must resolve it; the audit log names both accounts."
)


@dataclass
class Plan:
    """What provisioning would do with an answer (``manage.py custom_login`` prints it)."""

    action: str  # "create" or "update"
    username: str
    external_id: int
    group: VmGroup | None = None
    changes: list[str] = field(default_factory=list)


def _group(answer: LoginAnswer) -> VmGroup | None:
    if answer.id_group is not None:
        group = VmGroup.objects.filter(pk=answer.id_group).first()
        if group is None:
            raise AnswerInvalid(
                "your account's vmgui group does not exist; ask an administrator",
                f"id_group={answer.id_group}: no vmgui group has this id",
            )
        return group
    if answer.group_name:
        group = VmGroup.objects.filter(name=answer.group_name).first()
        if group is None:
            raise AnswerInvalid(
                "your account's vmgui group does not exist; ask an administrator",
                f"group_name={answer.group_name!r}: no vmgui group has this name "
                "(create it in the admin or with manage.py vmgroup set)",
            )
        return group
    return None


def _resolve(answer: LoginAnswer, *, lock: bool = False):
    """(binding of the id, user of the username) or IdCollision."""
    User = get_user_model()
    identities = ExternalIdentity.objects.select_related("user")
    users = User.objects.all()
    if lock:
        identities = identities.select_for_update()
        users = users.select_for_update()
    identity = identities.filter(external_id=answer.external_id).first()
    user = users.filter(username=answer.username).first()
    if identity is not None and identity.user.username != answer.username:
        raise IdCollision(
            _COLLISION,
            f"id {answer.external_id} returned for {answer.username!r} is bound to "
            f"{identity.user.username!r}",
            bound_username=identity.user.username,
            external_id=answer.external_id,
        )
    if identity is None and user is not None:
        own = ExternalIdentity.objects.filter(user=user).first()
        if own is not None:
            raise IdCollision(
                _COLLISION,
                f"user {answer.username!r} is bound to id {own.external_id}, but this sign-in "
                f"returned id {answer.external_id}",
                bound_username=answer.username,
                external_id=answer.external_id,
            )
        profile = UserProfile.objects.filter(user=user).first()
        if profile is None or profile.source == UserProfile.Source.LOCAL:
            raise IdCollision(
                "your account cannot sign in: its user name belongs to a local vmgui account; "
                "ask an administrator",
                f"user name {answer.username!r} (id {answer.external_id}) belongs to a local "
                "account; an external sign-in never takes over a local account",
                bound_username=answer.username,
                external_id=answer.external_id,
            )
    return identity, user


def plan(answer: LoginAnswer) -> Plan:
    """What ``provision`` would do, without writing anything (raises like it does)."""
    identity, user = _resolve(answer)
    group = _group(answer)
    result = Plan(
        action="update" if user is not None else "create",
        username=answer.username,
        external_id=answer.external_id,
        group=group,
    )
    if identity is None:
        result.changes.append(f"bind id {answer.external_id} to user {answer.username!r}")
    result.changes.append(f"is_admin = {answer.is_admin}")
    result.changes.append(f"group = {group.name if group else '(none)'}")
    for flag in FLAGS:
        if flag in answer.flags:
            result.changes.append(f"{flag} = {answer.flags[flag]}")
    for key in RESTRICTION_PARSERS:
        text = answer.restrictions.get(key, "")
        if text:
            result.changes.append(f"{key} = {text}")
    if answer.blocked:
        result.changes.append(f"REFUSE: blocked ({answer.blocked_reason or 'no reason given'})")
    if answer.req_2fa:
        result.changes.append("require TOTP two-factor authentication")
    if answer.ignored_keys:
        result.changes.append(f"ignored keys: {', '.join(answer.ignored_keys)}")
    return result


def provision(answer: LoginAnswer, method: str):
    """Create or update the local user of ``answer``; raises IdCollision / AnswerInvalid."""
    try:
        with transaction.atomic():
            return _provision(answer, method)
    except IntegrityError:
        # Two first sign-ins of one id (or one username) at once: the unique constraints
        # let one win; the other sees the winner's binding and is judged against it.
        with transaction.atomic():
            return _provision(answer, method)


def _provision(answer: LoginAnswer, method: str):
    identity, user = _resolve(answer, lock=True)
    group = _group(answer)
    User = get_user_model()
    if user is None:
        user = User(username=answer.username)
        user.set_unusable_password()
    first, _, last = answer.name.partition(" ")
    user.first_name, user.last_name = first[:150], last[:150]
    user.email = answer.email
    user.is_superuser = user.is_staff = answer.is_admin
    user.save()
    profile, _ = UserProfile.objects.get_or_create(user=user)
    profile.source = SOURCES[method]
    profile.group = group
    for flag in FLAGS:
        setattr(profile, flag, answer.flags.get(flag))
    for key in RESTRICTION_PARSERS:
        setattr(profile, key, answer.restrictions.get(key, ""))
    profile.save()
    user._vm_profile_cache = profile  # accounts.permissions.load_profile's cache
    if identity is None:
        identity = ExternalIdentity(external_id=answer.external_id, user=user, method=method)
    identity.subject = answer.subject[:255]
    identity.last_login = timezone.now()
    identity.save()
    return user
