"""``manage.py demo``: a realistic data set with real pcaps, on both backends."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from cdr import schema
from cdr.models import Cdr, CdrNext, CdrRtp, CdrTarPart
from cdr.query.engine import CdrFilter, fetch_rows
from cdr.query.scope import CdrScope
from tests.cdr.demo.test_demo_media import (
    audio_of,
    first_lines,
    read_member_at,
    reassemble,
    rtp_by_stream,
    sip_messages,
    unwrap,
    zst_tar_members,
)
from tests.factories import make_call


def run_demo(tmp_path: Path, *extra: str) -> str:
    out = io.StringIO()
    with override_settings(SPOOL_DIR=tmp_path / "spool", DATA_DIR=tmp_path):
        call_command(
            "demo",
            "--anchor=2026-11-27",
            "--calls=80",
            "--pcap-calls=6",
            "--days=3",
            *extra,
            stdout=out,
        )
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_creates_a_varied_data_set_with_real_pcaps(empty_sniffer_db, tmp_path):
    output = run_demo(tmp_path)
    assert "demo: 80 CDRs" in output and "6 with pcaps" in output
    assert "demo admin: user 'admin' password" in output
    assert get_user_model().objects.get(username="admin").is_superuser
    assert schema.ip_is_binary("cdr", "sipcallerip")  # IPv6 mode
    rows = fetch_rows(CdrFilter(), CdrScope.unrestricted(), custom_headers=["X-Account-Code"])
    assert len(rows) == 80
    assert {r["lastSIPresponseNum"] for r in rows} >= {200, 486, 487}
    assert {r["id_sensor"] for r in rows} >= {1, 2, 3}
    assert len({r["calldate"].date() for r in rows}) == 3
    assert any(r["custom_headers"]["X-Account-Code"] for r in rows)

    # Each pcap call: its SIP dialog in the zstd tar, its RTP via cdr_tar_part offsets.
    spool = tmp_path / "spool"
    parts = list(CdrTarPart.objects.values_list("cdr_id", "pos").order_by("cdr_id", "pos"))
    assert parts
    cdr_id = parts[0][0]
    cdr = Cdr.objects.only("calldate").get(ID=cdr_id)
    call_id = CdrNext.objects.get(cdr_id=cdr_id).fbasename
    minute = spool / cdr.calldate.strftime("%Y-%m-%d/%H/%M")
    rtp_tar = next((minute / "RTP").glob("rtp_*.tar"))
    with rtp_tar.open("rb") as fh:
        members = [read_member_at(fh, pos) for c, pos in parts if c == cdr_id]
    rtp = unwrap(reassemble(members, f"{call_id}.pcap"))
    streams = rtp_by_stream(rtp)
    assert len(streams) == 2
    stored = {r["received"] for r in CdrRtp.objects.filter(cdr_id=cdr_id).values("received")}
    assert {len(packets) for packets in streams.values()} == stored
    codec = fetch_rows(CdrFilter(cdr_ids=[cdr_id]), CdrScope.unrestricted())[0]["a_payload"]
    for packets in streams.values():
        audio = audio_of(packets, codec)
        assert np.sqrt(np.mean(audio.astype(float) ** 2)) > 300  # real signal, not silence
    sip_tar = next((minute / "SIP").glob("sip_*.tar.zst"))
    sip_pcap = reassemble(
        [(name, data) for _pos, name, data in zst_tar_members(sip_tar)], f"{call_id}.pcap"
    )
    labels = first_lines(sip_messages(sip_pcap))
    assert labels[0] == "INVITE"
    assert "200" in labels or any(code in labels for code in ("486", "487", "404", "503"))


@pytest.mark.django_db(transaction=True)
def test_it_is_idempotent(empty_sniffer_db, tmp_path):
    first = run_demo(tmp_path, "--no-spool")
    second = run_demo(tmp_path, "--no-spool")
    assert "demo data already present" in second
    assert Cdr.objects.count() == 80
    password = first.rsplit("password", 1)[1]
    assert password == second.rsplit("password", 1)[1]


@pytest.mark.django_db
def test_it_refuses_to_write_into_a_real_sniffer_database(tmp_path):
    make_call()
    with pytest.raises(CommandError, match="refusing to mix demo data"):
        run_demo(tmp_path, "--no-spool")
