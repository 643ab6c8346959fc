"""Shared test set-up: the sniffer schema in the test database, real fixture dumps, factories.

The suite runs twice (``make test``): on SQLite and on a real MariaDB. Tests marked ``mysql``
need MariaDB (e.g. loading the real sniffer's dumps); they are skipped in the SQLite pass and
run in the MariaDB pass, where ``VMGUI_REQUIRE_MYSQL=1`` turns a non-MySQL database into an
error instead of a silent skip.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from cdr import schema
from cdr.ddl import SchemaOptions, create_schema

# Fast hashing in tests only: the production hasher is deliberately slow.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The local cache of this test process only (two suites may run at once on one machine; a
# Redis cache is what tests/test_multihost.py starts for itself).
if settings.CACHES["default"]["BACKEND"] == "vmgui.hostcache.HostCache":
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": tempfile.mkdtemp(prefix="vmgui-cache-"),
        }
    }

# The real sniffer's output, committed with the tests (tests/fixtures/README.md).
FIXTURES_ROOT = Path(__file__).resolve().parent / "fixtures"
FIXTURE_DIR = FIXTURES_ROOT / "sniffer-2026.04.0"

# The schema every test starts with: the sniffer's defaults (IPv4 int columns, ms precision,
# daily partitions). Test rows use dates from 2026-11-20 to 2026-12-04, inside these partitions.
DEFAULT_SCHEMA = SchemaOptions(
    ipv6=False, ms=True, partitioned=True, partition_from=dt.date(2026, 11, 20), partition_days=15
)


def safe_extract(tf: tarfile.TarFile, dest: Path) -> None:
    """Extract a fixture tarball; the ``data`` filter where this Python has it (>= 3.11.4).

    Debian 12's own python3 is 3.11.2, which lacks extraction filters: there, refuse anything
    but plain files and directories inside ``dest`` ourselves.
    """
    if hasattr(tarfile, "data_filter"):
        tf.extractall(dest, filter="data")
        return
    root = Path(dest).resolve()
    for member in tf.getmembers():
        target = (root / member.name).resolve()
        if not (member.isfile() or member.isdir()) or root not in (target, *target.parents):
            raise ValueError(f"unsafe member in fixture tarball: {member.name}")
    tf.extractall(dest)


def is_mysql() -> bool:
    return connection.vendor == "mysql"


def pytest_collection_modifyitems(config, items):
    require = os.environ.get("VMGUI_REQUIRE_MYSQL") == "1"
    if require and "mysql" not in settings.DATABASES["default"]["ENGINE"]:
        raise pytest.UsageError("VMGUI_REQUIRE_MYSQL=1 but VMGUI_DATABASE_URL is not MySQL")
    if "mysql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs MariaDB; runs in the MariaDB pass of make test")
    for item in items:
        if "mysql" in item.keywords:
            item.add_marker(skip)


def sniffer_tables() -> list[str]:
    """Every table in the test database that is not one of Django's own."""
    ours = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
    ours |= {"django_migrations"}
    return [t for t in connection.introspection.table_names() if t not in ours]


def drop_sniffer_tables() -> None:
    tables = sniffer_tables()
    with connection.cursor() as cursor:
        if is_mysql():
            cursor.execute("SET FOREIGN_KEY_CHECKS=0")
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)}")
        if is_mysql():
            cursor.execute("SET FOREIGN_KEY_CHECKS=1")
    schema.clear_cache()


def reset_sniffer_schema(opts: SchemaOptions = DEFAULT_SCHEMA) -> None:
    drop_sniffer_tables()
    create_schema(opts)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        reset_sniffer_schema()
    yield


@pytest.fixture
def sniffer_schema(transactional_db):
    """Recreate the sniffer tables with other options for one test, then restore the default.

    Usage: ``sniffer_schema(SchemaOptions(ipv6=True))``. DDL commits on MySQL, hence the
    transactional_db.
    """

    def make(opts: SchemaOptions) -> None:
        if opts.partition_from is None:  # keep test dates inside the partitions
            opts = dataclasses.replace(
                opts,
                partition_from=DEFAULT_SCHEMA.partition_from,
                partition_days=DEFAULT_SCHEMA.partition_days,
            )
        reset_sniffer_schema(opts)

    yield make
    reset_sniffer_schema()


@pytest.fixture
def empty_sniffer_db(transactional_db):
    """No sniffer tables at all (a fresh database), restored to the default schema afterwards."""
    drop_sniffer_tables()
    yield
    reset_sniffer_schema()


def plain_mysql_connection():
    """A MySQLdb connection of its own to the test database, with the driver's default
    conversions (no Django, no vmgui.dbconv): another client, as a script or a second host."""
    import MySQLdb

    db = connection.settings_dict
    return MySQLdb.connect(host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 3306),
                           user=db["USER"], passwd=db["PASSWORD"], db=db["NAME"],
                           charset="utf8mb4")  # fmt: skip


def mysql_client_args() -> list[str]:
    db = connection.settings_dict
    args = ["mariadb", f"--user={db['USER']}", f"--password={db['PASSWORD']}"]
    args.append(f"--host={db['HOST'] or '127.0.0.1'}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    args.append(connection.settings_dict["NAME"])
    return args


@pytest.fixture
def sniffer_dump(transactional_db):
    """Load one of the real sniffer's dumps (``db_notar.sql``, ``db_live.sql``) into the test DB."""
    if not is_mysql():
        pytest.fail("sniffer_dump needs MariaDB; mark the test with @pytest.mark.mysql")

    def load(name: str) -> None:
        drop_sniffer_tables()
        path = FIXTURE_DIR / name
        with path.open("rb") as dump:
            subprocess.run(mysql_client_args(), stdin=dump, check=True, capture_output=True)
        schema.clear_cache()

    yield load
    reset_sniffer_schema()
