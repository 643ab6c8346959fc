"""Shared helpers and fixtures of the media tests (this module has no tests of its own).

* ``real_spools``: the real sniffer's ``spool_live`` (tar mode) and ``spool_notar`` (plain
  files) extracted once per session.
* ``demo_call``: write generated calls (cdr.demo) into a spool like the sniffer and insert
  their CDR rows (cdr, cdr_next, cdr_rtp, cdr_tar_part) like the sniffer does.
* ``media_user``: a local user in a group with chosen flags and restrictions.
"""

from __future__ import annotations

import datetime as dt
import io
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import UserProfile, VmGroup
from accounts.services import profile_of
from cdr.bulk import insert
from cdr.demo.dataset import cdr_rtp_rows
from cdr.demo.pcapgen import CallResult, CallSpec, generate_call
from cdr.demo.signals import SignalSpec
from cdr.demo.spoolwriter import CallFiles, SpoolWriter
from cdr.models import CdrRtp, CdrTarPart
from tests.conftest import FIXTURE_DIR, safe_extract
from tests.factories import aware, make_call

RATE = 8000
PASSWORD = "media-pass-1"

# Real fixture calls (calls.md): Call-ID → (calldate, minute dir) per spool.
LIVE_CALLS = {
    1: ("5e0f1a21d3c74a21@alpha.example.com", dt.datetime(2026, 11, 27, 4, 11, 38, 915000)),
    2: ("6f1a2b22e4d84b22@gamma.example.net", dt.datetime(2026, 11, 27, 4, 11, 40, 935000)),
    3: ("7a2b3c23f5e94c23@alpha.example.com", dt.datetime(2026, 11, 27, 4, 11, 42, 907000)),
}
LIVE_TAR_PARTS = {1: [0, 164352, 657408, 821760], 2: [328704, 877056], 3: [493056, 1029632]}


@pytest.fixture(scope="session")
def real_spools(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"live": <spool_live root>, "notar": <spool_notar root>} extracted once."""
    out = {}
    for key in ("live", "notar"):
        archive = FIXTURE_DIR / f"spool_{key}.tar.gz"
        if not archive.exists():
            pytest.skip("the real sniffer fixture spools are not available")
        dest = tmp_path_factory.mktemp(f"spool_{key}")
        with tarfile.open(archive) as tf:
            safe_extract(tf, dest)
        out[key] = dest / f"spool_{key}"
    return out


def dominant_freq(x: np.ndarray, rate: int = RATE) -> float:
    x = x.astype(np.float64)
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spec)])


def tone_spec(call_id: str, calldate: dt.datetime, **overrides) -> CallSpec:
    """An answered G.711 call: 1 kHz tone from the caller, 440 Hz from the called party."""
    values: dict[str, object] = dict(
        call_id=call_id,
        calldate=calldate,
        caller="1001",
        called="2002",
        caller_domain="alpha.example.com",
        called_domain="beta.example.com",
        caller_ip="10.1.0.1",
        called_ip="10.2.0.2",
        caller_rtp_port=11000,
        called_rtp_port=21000,
        codec=0,
        ring_s=1.0,
        talk_s=4.0,
        caller_signal=SignalSpec(kind="tone", freq=1000.0, level_dbfs=-12),
        called_signal=SignalSpec(kind="tone", freq=440.0, level_dbfs=-12),
        seed=7,
    )
    values.update(overrides)
    return CallSpec(**values)  # type: ignore[arg-type]


@dataclass
class DemoCall:
    spec: CallSpec
    result: CallResult
    files: CallFiles
    cdr_id: int


def insert_cdr(spec: CallSpec, result: CallResult, files: CallFiles | None, **extra) -> int:
    """The CDR rows the sniffer would write for a generated call; returns cdr.ID."""
    flags = result.flags | (files.flags if files else 0)
    cdr = make_call(
        spec.calldate.isoformat(sep=" "),
        caller=spec.caller,
        called=spec.called,
        sipcallerip=spec.caller_ip,
        sipcalledip=spec.called_ip,
        duration=round(result.duration, 3),
        connect_duration=round(result.connect_duration, 3)
        if result.connect_duration is not None
        else None,
        response=result.last_sip_response,
        call_id=spec.call_id,
        payload=spec.codec,
        flags=flags,
        **extra,
    )
    start = aware(spec.calldate)
    rows = cdr_rtp_rows(result, cdr.ID, start)
    if rows:
        insert(CdrRtp, rows)
    if files is not None and files.tar_parts:
        insert(
            CdrTarPart,
            [dict(cdr=cdr.ID, calldate=start, type=t, pos=p) for t, p in files.tar_parts],
        )
    return cdr.ID


def write_calls(
    root: Path, specs: Iterable[CallSpec], *, tar: bool = True, wav: bool = False, db: bool = True
) -> list[DemoCall]:
    """Generate ``specs`` into a spool at ``root`` (and the database when ``db``)."""
    out = []
    with SpoolWriter(root, tar=tar) as writer:
        written = []
        for spec in specs:
            result = generate_call(spec)
            written.append((spec, result, writer.add_call(spec, result, wav=wav)))
    for spec, result, files in written:
        cdr_id = insert_cdr(spec, result, files) if db else 0
        out.append(DemoCall(spec, result, files, cdr_id))
    return out


def media_user(
    username: str = "mediauser",
    *,
    flags: Iterable[str] = ("can_cdr", "can_pcap", "can_download_audio", "can_graphs"),
    **restrictions: str,
):
    """A local user whose group grants exactly ``flags`` (and the given restrictions)."""
    from accounts.flags import FLAGS

    group = VmGroup.objects.create(
        name=f"group-{username}",
        **{f: f in set(flags) for f in FLAGS},
        **restrictions,
    )
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    UserProfile.objects.get_or_create(user=user)
    profile = profile_of(user)
    profile.group = group
    profile.save()
    return user


def api_get(
    params: dict, task: str, user: str | None = "mediauser", client: Client | None = None, **headers
):
    """GET /php/api.php with JSON params; returns the raw response."""
    import json

    fields = {"task": task, "params": json.dumps(params)}
    if user is not None:
        fields.update(user=user, password=PASSWORD)
    return (client or Client()).get("/php/api.php", fields, **headers)


def error_reason(response) -> str:
    import json

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert body["success"] is False, body
    return body["errors"]["reason"]


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}
