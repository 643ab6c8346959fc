"""/php/apilicensecheck.php: licenseCheck and licenseCallsLimitCheck, with the concurrent calls
counted on real manager peers (the sensor simulator) on loopback."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import UserProfile
from api.legacy import license
from cdr.models import Sensor
from cdr.sensors.simulator import CallPool, ManagerSimulator
from tests.api.legacy.test_api_php_support import FAST_HASHERS, PASSWORD, decode, ok, reason
from tests.cdr.sensors.test_manager_support import closed_port

URL = "/php/apilicensecheck.php"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.MANAGER_CONNECT_TIMEOUT = 0.5
    settings.MANAGER_TIMEOUT = 0.8
    settings.MANAGER_AES = "off"
    settings.LICENSE_CALLS_LIMIT = 0
    license._cache["value"] = None  # every test asks its own sensors
    return settings


def make_user(name="integrator", *, hide=False, superuser=False):
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
    user = User.objects.create_user(username=name, password=PASSWORD)
    UserProfile.objects.create(user=user, hide_license_information=hide)
    return user


def check(task, client=None, **fields) -> dict:
    return decode((client or Client()).get(URL, {"task": task, **fields}))


def sensors(*peers):
    for i, peer in enumerate(peers, start=1):
        Sensor.objects.create(id_sensor=i, name=f"s{i}", host="127.0.0.1", port=peer.port)


def pool(n, seed):
    return CallPool(low=n, high=n, seed=seed)


@pytest.mark.django_db
def test_it_says_the_installation_is_valid_with_version_and_limits(settings):
    make_user()
    settings.LICENSE_CALLS_LIMIT = 250
    body = ok(check("licenseCheck", user="integrator", password=PASSWORD))
    assert body == {
        "success": True,
        "valid": True,
        "license": "open-source",
        "product": "vmgui",
        "brand": settings.BRAND_NAME,
        "version": settings.VM_VERSION,
        "expires": None,
        "limits": {"concurrent_calls": 250, "sensors": None},
    }


@pytest.mark.django_db
def test_it_answers_the_specs_call_without_credentials_with_the_verdict_only():
    assert ok(check("licenseCheck")) == {"success": True, "valid": True}


@pytest.mark.django_db
def test_it_hides_the_details_from_hide_license_information_users():
    make_user(hide=True)
    assert ok(check("licenseCheck", user="integrator", password=PASSWORD)) == {
        "success": True,
        "valid": True,
    }


@pytest.mark.django_db
def test_it_shows_the_details_to_a_signed_in_session_user():
    client = Client()
    client.force_login(make_user())
    assert ok(check("licenseCheck", client=client))["version"]


@pytest.mark.django_db
def test_it_refuses_wrong_credentials_instead_of_answering_anonymously():
    make_user()
    assert "wrong user name or password" in reason(
        check("licenseCheck", user="integrator", password="nope")
    )


@pytest.mark.django_db
def test_it_names_the_tasks_for_an_unknown_or_missing_task():
    assert reason(check("licenseStatus")) == (
        "unknown task 'licenseStatus' (tasks: licenseCheck, licenseCallsLimitCheck)"
    )
    assert "missing task parameter" in reason(decode(Client().get(URL)))


@pytest.mark.django_db
def test_it_counts_the_concurrent_calls_of_every_sensor_against_the_limit(settings):
    make_user()
    settings.LICENSE_CALLS_LIMIT = 4
    with ManagerSimulator(pool=pool(3, 1)) as one, ManagerSimulator(pool=pool(2, 2)) as two:
        sensors(one, two)
        body = ok(check("licenseCallsLimitCheck", user="integrator", password=PASSWORD))
    assert body == {
        "success": True,
        "exceeded": True,
        "complete": True,
        "calls": 5,
        "limit": 4,
        "unlimited": False,
        "sensors": 2,
        "failed": [],
    }


@pytest.mark.django_db
def test_it_is_not_exceeded_at_the_limit_or_without_one(settings):
    make_user()
    with ManagerSimulator(pool=pool(3, 1)) as one:
        sensors(one)
        settings.LICENSE_CALLS_LIMIT = 3
        at_limit = ok(check("licenseCallsLimitCheck", user="integrator", password=PASSWORD))
        settings.LICENSE_CALLS_LIMIT = 0
        license._cache["value"] = None
        unlimited = ok(check("licenseCallsLimitCheck", user="integrator", password=PASSWORD))
    assert (at_limit["calls"], at_limit["exceeded"]) == (3, False)
    assert (unlimited["limit"], unlimited["unlimited"], unlimited["exceeded"]) == (
        None,
        True,
        False,
    )


@pytest.mark.django_db
def test_it_counts_every_sensor_even_for_a_user_restricted_to_one(settings):
    user = make_user()
    UserProfile.objects.filter(user=user).update(enable_sensors="1")
    settings.LICENSE_CALLS_LIMIT = 10
    with ManagerSimulator(pool=pool(3, 1)) as one, ManagerSimulator(pool=pool(2, 2)) as two:
        sensors(one, two)
        body = ok(check("licenseCallsLimitCheck", user="integrator", password=PASSWORD))
    assert (body["calls"], body["sensors"]) == (5, 2)


@pytest.mark.django_db
def test_it_gives_anonymous_and_hidden_callers_only_the_verdict(settings):
    make_user(hide=True)
    settings.LICENSE_CALLS_LIMIT = 1
    with ManagerSimulator(pool=pool(2, 1)) as one:
        sensors(one)
        anonymous = ok(check("licenseCallsLimitCheck"))
        hidden = ok(check("licenseCallsLimitCheck", user="integrator", password=PASSWORD))
    assert anonymous == hidden == {"success": True, "exceeded": True, "complete": True}


@pytest.mark.django_db
def test_it_lists_sensors_that_did_not_answer_and_says_the_count_is_incomplete(settings):
    make_user(superuser=True, name="root")
    settings.LICENSE_CALLS_LIMIT = 10
    with ManagerSimulator(pool=pool(2, 1)) as one:
        sensors(one)
        Sensor.objects.create(id_sensor=9, name="dead", host="127.0.0.1", port=closed_port())
        body = ok(check("licenseCallsLimitCheck", user="root", password=PASSWORD))
    assert (body["calls"], body["exceeded"], body["complete"], body["sensors"]) == (
        2,
        False,
        False,
        1,
    )
    (failed,) = body["failed"]
    assert (failed["sensorId"], failed["sensorName"]) == (9, "dead") and failed["reason"]


@pytest.mark.django_db
def test_it_gives_anonymous_callers_details_when_api_authorization_is_disabled(settings):
    settings.API_DISABLE_AUTH = True
    assert ok(check("licenseCheck"))["product"] == "vmgui"


@pytest.mark.django_db
def test_it_accepts_the_task_by_post_and_in_any_case():
    body = decode(Client().post(URL, {"task": "LICENSECHECK"}))
    assert body == {"success": True, "valid": True}
    assert json.loads(Client().put(URL).content)["success"] is False
