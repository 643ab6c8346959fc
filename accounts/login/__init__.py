"""Sign-in: the login page, the custom_login hook, LDAP, Entra ID, Google, two-factor (TOTP).

Every sign-in method produces the same thing, the spec's custom_login "return array" (a dict
with username, id, is_admin, id_group, flags, restrictions, blocked, req_2fa, ...):

* ``hook``: loads and calls ``VMGUI_CUSTOM_LOGIN=package.module:function`` (with the old
  GUI's "antivirus" as a load-time refusal, never a deletion);
* ``ldap``: django-auth-ldap bind + search, groups → vmgui group / flags, id from uidNumber;
* ``oidc``: Microsoft Entra ID (msal, id_token validated here) and Google (authlib);
* ``answer``: validates a return array into a ``LoginAnswer``;
* ``provision``: a ``LoginAnswer`` → the local user, profile, group, flags, restrictions,
  with unique-id enforcement (``accounts.models.ExternalIdentity``);
* ``flow``: the order of methods, throttling, blocked users, audit, sessions, the 2FA step;
* ``totp``: django-otp TOTP enrolment (QR code), verification, recovery codes, reset;
* pages: ``views``, ``forms``, ``urls``, ``admin`` (external identities in the admin).

May use: the other ``accounts`` modules (audit, throttle, permissions, services, models).
Nothing outside ``accounts`` imports this package except the URL map, the settings and
sql.php's ``bypass_login`` (``flow.authenticate_for_api``, behind a setting).
"""
