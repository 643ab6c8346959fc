"""The one filter declaration (cdr.query.filterspec): every CdrFilter condition is declared,
and every face that names a filter really applies it (so a filter exists in every face or in
none)."""

from __future__ import annotations

import dataclasses

import pytest

from api.legacy.sql_filters import listing_filter
from api.legacy.tasks_cdr import voip_calls_filter
from cdr.query.engine import CdrFilter
from cdr.query.filterspec import ALL_PARAMS, FILTERS, QUALITY_FILTERS, FilterValueError, parse

# A value each face understands for a filter of this kind.
SAMPLES = {
    "datetime": "2026-11-27T10:00:00",
    "datetime_end": "2026-11-27T11:00:00",
    "ints": "5",
    "texts": "abc@host",
    "patterns": "1001",
    "ips": "10.0.0.1",
    "sensors": "1",
    "sip_responses": "486",
    "number": "5",
    "quality": "3",
    "custom_header": "ACME%",
}
# Legacy parameters whose value has another shape than the REST one.
LEGACY_VALUES = {
    ("api.php", "msisdn"): "true",
    ("api.php", "onlyConnected"): "true",
    ("sql.php", "fcallerd_type"): "0",
}
START = {"startTime": "2026-11-27T00:00:00"}


def test_every_cdrfilter_field_is_declared_once():
    fields = {f.name for f in dataclasses.fields(CdrFilter)}
    declared = [p.target for p in FILTERS]
    assert len(declared) == len(set(declared)), "a field declared twice"
    assert set(declared) | {"column_conditions"} == fields
    assert {p.target for p in ALL_PARAMS} == fields


def test_every_param_names_every_legacy_face():
    for param in ALL_PARAMS:
        assert set(param.legacy) == {"api.php", "sql.php"}, param.name


def _changed(f: CdrFilter, target: str) -> bool:
    return getattr(f, target) != getattr(CdrFilter(), target)


def _legacy_filter(face: str, name: str, value: str) -> CdrFilter:
    if face == "api.php":
        if name.startswith("startTime"):
            return voip_calls_filter({name: value}, require_start=False)
        return voip_calls_filter({**START, name: value})
    if name == "fcustom_header__<Name>":
        name = "fcustom_header__X-Account-Code"
    return listing_filter({"fdatefrom": "2026-11-27", name: value}, require_date=False)


@pytest.mark.parametrize("param", ALL_PARAMS, ids=lambda p: p.name)
def test_each_face_that_names_a_filter_applies_it(param):
    value = (
        SAMPLES["bool" if param.kind == "bool" else param.kind] if param.kind != "bool" else "true"
    )
    rest_name = "header.X-Account-Code" if param.name.startswith("header.") else param.name
    assert _changed(parse({rest_name: [value]}), param.target), f"REST {param.name}"
    for face, name in param.legacy.items():
        if name is None:
            continue
        legacy_value = LEGACY_VALUES.get((face, name), value)
        assert _changed(_legacy_filter(face, name, legacy_value), param.target), f"{face} {name}"


def test_the_quality_thresholds_scale_like_the_old_gui():
    f = parse({"mos_f1_max": ["3.5"], "rtcp_max_loss_min": ["10"]})
    assert f.column_conditions == {
        "a_mos_f1_mult10__lte|b_mos_f1_mult10__lte": 35,
        "a_rtcp_maxfr__gte|b_rtcp_maxfr__gte": 25.6,
    }
    legacy = listing_filter({"fdatefrom": "2026-11-27", "fmosf1": "3.5", "frtcp_maxfr": "10"})
    assert legacy.column_conditions == f.column_conditions
    assert len(QUALITY_FILTERS) == 24


@pytest.mark.parametrize(
    "query, message",
    [
        ({"callerr": ["1"]}, "unknown parameter"),
        ({"caller": ["1," * 1001]}, "at most 1000 values .VMGUI_MAX_LIST_VALUES"),
        ({"call_id": ["c"] * 10001}, "at most 10000 values .VMGUI_MAX_ID_VALUES"),
        ({"caller": ["x" * 1025]}, "longer than 1024 characters"),
        ({"rtcp_avg_jitter_min": ["1e308"]}, "from 0 to 1e"),
        ({"caller": ["\ud800"]}, "cannot be stored"),
        ({"date_from": ["0001-01-01T00:00:00+14:00"]}, "ISO 8601"),
        ({"sensor": ["-2"]}, "at least -1"),
        ({"duration_min": ["1e999"]}, "number"),
        ({"sip_response": ["4xxx"]}, "SIP codes"),
    ],
)
def test_bad_values_are_refused_by_name(query, message):
    with pytest.raises(FilterValueError, match=message):
        parse(query)


def test_a_date_alone_is_the_whole_day():
    f = parse({"date_from": ["2026-11-27"], "date_to": ["2026-11-27"]})
    assert (f.date_from.hour, f.date_from.minute) == (0, 0)
    assert (f.date_to.hour, f.date_to.minute, f.date_to.second) == (23, 59, 59)
    zoned = parse({"date_from": ["2026-11-27T10:00:00+01:00"]}).date_from
    assert zoned.utcoffset().total_seconds() == 3600 and zoned.hour == 10


def test_sip_response_classes_are_expanded_once():
    codes = parse({"sip_response": ["4,4xx,486,4"]}).sip_responses
    assert codes == list(range(400, 500))
    legacy = listing_filter({"fdatefrom": "2026-11-27", "fsipresponse": "4,4xx,486,4"})
    assert legacy.sip_responses == codes
