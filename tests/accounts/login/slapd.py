"""A real OpenLDAP ``slapd`` (Debian's) for the LDAP tests, on its own port in a temp dir.

python-ldap's ``slapdtest.SlapdObject`` runs it; we add the schemas for people and POSIX
groups and the ppolicy overlay (so that a locked account is locked by the server itself), and
load a small directory: people, POSIX groups, a service account, a locked user, a user without
uidNumber and one whose uidNumber repeats another's.
"""

from __future__ import annotations

import tempfile

from slapdtest import SlapdObject
from slapdtest._slapdtest import SLAPD_CONF_TEMPLATE

SUFFIX = "dc=vmgui,dc=test"
READER_DN = f"cn=vmgui-reader,{SUFFIX}"
READER_PASSWORD = "reader-secret"

_PPOLICY = r"""
dn: cn=module{1},cn=config
objectClass: olcModuleList
cn: module{1}
olcModuleLoad: ppolicy

dn: olcOverlay=ppolicy,olcDatabase={1}%(database)s,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: ppolicy
olcPPolicyDefault: cn=default,ou=policies,%(suffix)s
olcPPolicyUseLockout: TRUE
"""


def _person(uid: str, number: int | None, name: str, password: str, extra: str = "") -> str:
    posix = (
        f"objectClass: posixAccount\nuidNumber: {number}\ngidNumber: 100\n"
        f"homeDirectory: /home/{uid}\n"
        if number is not None
        else ""
    )
    return (
        f"dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\n{posix}"
        f"uid: {uid}\ncn: {name}\nsn: {name.split()[-1]}\nmail: {uid}@vmgui.test\n"
        f"userPassword: {password}\n{extra}\n"
    )


def _group(name: str, number: int, members: list[str]) -> str:
    lines = "".join(f"memberUid: {m}\n" for m in members)
    return (
        f"dn: cn={name},ou=groups,{SUFFIX}\nobjectClass: posixGroup\ncn: {name}\n"
        f"gidNumber: {number}\n{lines}\n"
    )


DIRECTORY = (
    f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: vmgui\no: vmgui test\n\n"
    + "".join(
        f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        for ou in ("people", "groups", "policies")
    )
    + f"dn: {READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
    f"cn: vmgui-reader\nuserPassword: {READER_PASSWORD}\n\n"
    f"dn: cn=default,ou=policies,{SUFFIX}\nobjectClass: person\nobjectClass: pwdPolicy\n"
    "cn: default\nsn: policy\npwdAttribute: userPassword\npwdLockout: TRUE\npwdMaxFailure: 0\n\n"
    + _person("jan", 5001, "Jan Novák", "jan-secret")
    + _person("petra", 5002, "Petra Svobodová", "petra-secret")
    + _person(
        "locked", 5003, "Lucie Zamčená", "locked-secret", "pwdAccountLockedTime: 000001010000Z\n"
    )
    + _person("twin", 5001, "Tomáš Dvojník", "twin-secret")
    + _person("noid", None, "Nikdo Bezčísla", "noid-secret")
    + _person("yuki", 5006, "山田 由紀", "yuki-secret")
    + _group("voip-support", 7001, ["jan", "twin", "yuki"])
    + _group("voip-pcap", 7002, ["jan"])
    + _group("voip-admins", 7003, ["petra"])
    + _group("voip-secure", 7004, ["yuki"])
)


class VmguiSlapd(SlapdObject):
    suffix = SUFFIX
    TMPDIR = tempfile.gettempdir()
    slapd_loglevel = "0"
    openldap_schema_files = ("core.ldif", "cosine.ldif", "nis.ldif", "inetorgperson.ldif")
    slapd_conf_template = SLAPD_CONF_TEMPLATE + _PPOLICY

    def gen_config(self) -> str:
        config = super().gen_config()
        return config.replace(
            f"olcDatabase: {self.database}\n", f"olcDatabase: {{1}}{self.database}\n"
        )

    def _write_config(self) -> None:
        # The ppolicy overlay needs its database first: load the schemas, then the overlay.
        main, _, overlay = self.gen_config().partition("\ndn: cn=module{1},cn=config")
        self.slapadd(main, ["-n0"])
        for schema in self.openldap_schema_files:
            self.slapadd(None, ["-n0", "-l", f"{self.SCHEMADIR}/{schema}"])
        self.slapadd("dn: cn=module{1},cn=config" + overlay, ["-n0"])

    def load_directory(self) -> None:
        self.slapadd(DIRECTORY, ["-n1"])


def start() -> VmguiSlapd:
    server = VmguiSlapd()
    server._cleanup_rundir()
    server.setup_rundir()
    server._write_config()
    server.load_directory()
    server._test_config()
    server._start_slapd()
    return server
