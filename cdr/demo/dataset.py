"""The demo data set: a deterministic, realistic sniffer database and spool.

``build_demo`` writes a few thousand CDRs over several days and sensors into the sniffer tables
(through cdr.bulk, i.e. only into columns that exist) and, for a few hundred of them, real
pcaps and WAVs into the spool via cdr.demo.pcapgen/spoolwriter, so that every feature has data
to show. The same seed and anchor date always give the same rows and the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from cdr import schema
from cdr.bulk import insert
from cdr.ddl import SchemaOptions, create_schema
from cdr.demo.pcapgen import CallSpec, SignalSpec, generate_call
from cdr.demo.spoolwriter import SpoolWriter
from cdr.flags import FLAG_SAVE_FLAGS_VALID, FLAG_SIP_PCAP, FLAG_TRANSPORT_UDP
from cdr.models import (
    Cdr,
    CdrCustomHeader,
    CdrNext,
    CdrNext1,
    CdrReason,
    CdrRtp,
    CdrSdp,
    CdrSipResponse,
    CdrTarPart,
    CdrUa,
    Sensor,
    System,
)

DEMO_MARK = "vmgui_demo"
FIXED_HEADER = "X-Custom-Header"

SENSORS = [(1, "prague-edge"), (2, "brno-core"), (3, "vienna-sbc")]
DOMAINS = ["pbx.alpha.example.com", "sip.beta.example.net", "voip.gamma.example.org"]
CARRIER_DOMAINS = ["carrier.example.com", "ims.mnc001.mcc230.3gppnetwork.org"]
USER_AGENTS = [
    "Yealink SIP-T46S",
    "Grandstream GXP2170 1.0.11.3",
    "Linphone/5.2.0 (belle-sip/5.2.0)",
    "Zoiper rv2.10.19.5",
    "Asterisk PBX 20.5.0",
    "FreeSWITCH-mod_sofia/1.10.11",
]
SERVERS = ["Kamailio (5.7.4 (x86_64/linux))", "Asterisk PBX 20.5.0", "Carrier-SBC/9.1"]
NAMES = ["Alice Anders", "Bob Brown", "Carol Cerna", "Dave Dvorak", "Eve Edwards", "Frank Fiala"]
# (SIP code, reason, weight, answered)
OUTCOMES = [
    (200, "OK", 64, True),
    (486, "Busy Here", 10, False),
    (487, "Request Terminated", 10, False),
    (404, "Not Found", 4, False),
    (480, "Temporarily Unavailable", 4, False),
    (503, "Service Unavailable", 4, False),
    (408, "Request Timeout", 2, False),
    (500, "Server Internal Error", 1, False),
    (603, "Decline", 1, False),
]
# Failed calls where a carrier plays an announcement first (183 Session Progress + early
# media, then the final code): these failed calls have audio to listen to.
EARLY_MEDIA_CODES = frozenset({404, 480, 503})
CODECS = [(8, 45), (0, 40), (9, 15)]  # PCMA, PCMU, G.722 (no pcaps for G.722)


@dataclass(frozen=True)
class DemoOptions:
    anchor: dt.date
    calls: int = 3000
    pcap_calls: int = 250
    days: int = 4
    seed: int = 2026
    spool_dir: Path | None = None
    tar: bool = True


@dataclass
class DemoResult:
    created: bool
    calls: int = 0
    pcap_calls: int = 0
    ipv6_calls: int = 0
    message: str = ""


class DemoRefused(Exception):
    """The database holds real sniffer data: the demo will not mix itself into it."""


def demo_state() -> dict | None:
    """The demo marker row, or None when no demo was loaded into this database."""
    if not schema.has_table("system"):
        return None
    row = System.objects.filter(type=DEMO_MARK).values_list("content", flat=True).first()
    return json.loads(row) if row else None


def _ensure_schema(opts: DemoOptions) -> None:
    first = opts.anchor - dt.timedelta(days=opts.days + 1)
    create_schema(
        SchemaOptions(
            ipv6=True,
            ms=True,
            partitioned=True,
            partition_from=first,
            partition_days=opts.days + 10,
        )
    )
    column = f"custom_header__{FIXED_HEADER}"
    if not schema.has_column("cdr_next", column):
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            # What the sniffer itself does for a custom_headers_cdr header.
            cursor.execute(f"ALTER TABLE {qn('cdr_next')} ADD COLUMN {qn(column)} VARCHAR(255)")
        schema.clear_cache()


def _lookup_ids(model, field: str, values: list[str]) -> dict[str, int]:
    existing = dict(model.objects.filter(**{f"{field}__in": values}).values_list(field, "id"))
    for value in values:
        if value not in existing:
            existing[value] = model.objects.create(**{field: value}).id
    return existing


class _Generator:
    def __init__(self, opts: DemoOptions) -> None:
        self.opts = opts
        self.rng = random.Random(opts.seed)
        self.tz = timezone.get_current_timezone()

    def number(self, kind: str) -> str:
        r = self.rng
        if kind == "ext":
            return str(r.randint(1000, 1999))
        if kind == "cz":
            return f"+420{r.choice(['601', '602', '603', '721', '777'])}{r.randint(100000, 999999)}"
        if kind == "at":
            return f"+43{r.choice(['1', '664', '676'])}{r.randint(1000000, 9999999)}"
        return f"00{r.choice(['1', '44', '49'])}{r.randint(100000000, 999999999)}"

    def calldate(self) -> dt.datetime:
        r = self.rng
        day = self.opts.anchor - dt.timedelta(days=r.randrange(self.opts.days))
        # Busy hours: most calls between 8:00 and 18:00.
        hour = int(min(23, max(0, r.gauss(13, 4))))
        naive = dt.datetime.combine(day, dt.time(hour, r.randrange(60), r.randrange(60)))
        return naive + dt.timedelta(microseconds=r.randrange(1000) * 1000)

    def ip(self, v6: bool, side: int) -> str:
        r = self.rng
        if v6:
            return f"2001:db8:{side:x}::{r.randint(1, 0xFFFF):x}"
        return f"10.{side}.{r.randint(0, 3)}.{r.randint(2, 254)}"


def _weighted(rng: random.Random, table):
    return rng.choices(table, weights=[row[-2] if len(row) == 4 else row[1] for row in table])[0]


def build_demo(opts: DemoOptions) -> DemoResult:
    """Create the demo data set (idempotent: does nothing if this database already has it)."""
    if demo_state() is not None:
        return DemoResult(created=False, message="demo data already present")
    if schema.has_table("cdr") and Cdr.objects.exists():
        raise DemoRefused(
            "the cdr table already holds calls that the demo did not write; refusing to mix "
            "demo data into a real sniffer database"
        )
    _ensure_schema(opts)
    gen = _Generator(opts)
    rng = gen.rng
    with transaction.atomic():
        for id_sensor, name in SENSORS:
            Sensor.objects.get_or_create(
                id_sensor=id_sensor, defaults={"name": name, "host": "127.0.0.1", "port": 5029}
            )
        CdrCustomHeader.objects.get_or_create(
            header_field="X-Account-Code",
            defaults=dict(
                name="Account code",
                type="dynamic",
                dynamic_table=1,
                dynamic_column=1,
                state="active",
            ),
        )
        CdrCustomHeader.objects.get_or_create(
            header_field="X-Tenant",
            defaults=dict(
                name="Tenant", type="dynamic", dynamic_table=1, dynamic_column=2, state="active"
            ),
        )
        responses = _lookup_ids(
            CdrSipResponse, "lastSIPresponse", [f"{c} {t}" for c, t, _w, _a in OUTCOMES]
        )
        uas = _lookup_ids(CdrUa, "ua", USER_AGENTS + SERVERS)
        busy_reason = CdrReason.objects.get_or_create(type=2, reason="User busy")[0].id

    plans = []
    for n in range(opts.calls):
        code, text, _w, answered = _weighted(rng, OUTCOMES)
        codec = _weighted(rng, CODECS)[0]
        v6 = rng.random() < 0.03
        kind_from = rng.choice(["ext", "ext", "cz", "at"])
        kind_to = rng.choice(["ext", "cz", "cz", "at", "intl"])
        start = gen.calldate()
        plans.append(
            dict(
                n=n,
                code=code,
                text=text,
                answered=answered,
                codec=codec,
                v6=v6,
                caller=gen.number(kind_from),
                called=gen.number(kind_to),
                callername=rng.choice(NAMES) if kind_from == "ext" else "",
                caller_domain=rng.choice(DOMAINS),
                called_domain=rng.choice(DOMAINS + CARRIER_DOMAINS),
                callerip=gen.ip(v6, 1),
                calledip=gen.ip(v6, 2),
                start=start,
                sensor=rng.choice([1, 1, 2, 2, 3, None]),
                ring=round(rng.uniform(0.5, 12), 3),
                # Talk times: mostly short, a long tail (some over an hour).
                talk=round(min(rng.lognormvariate(4.0, 1.1), 5400), 3) if answered else 0.0,
                ua=rng.choice(USER_AGENTS),
                server=rng.choice(SERVERS),
                account=f"ACC-{rng.randint(100, 120)}" if rng.random() < 0.4 else None,
                tenant=rng.choice(["acme", "globex", "initech"]) if rng.random() < 0.6 else None,
                tag=rng.choice(["vip", "support", "sales", None, None]),
                loss=rng.choice([0.0] * 6 + [0.01, 0.03, 0.08]),
                hangup="caller" if rng.random() < 0.6 else "callee",
                dtmf=rng.choice(["", "", "", "1234#", "*9"]),
            )
        )
    plans.sort(key=lambda p: p["start"])
    # Real pcaps for a spread of G.711 calls (answered and failed, IPv4 and IPv6).
    candidates = [p for p in plans if p["codec"] in (0, 8)]
    step = max(1, len(candidates) // max(1, opts.pcap_calls))
    pcap_set = {p["n"] for p in candidates[::step][: opts.pcap_calls]}

    first_id = 1
    rows_cdr, rows_next, rows_next1, rows_rtp, rows_sdp, rows_tar = [], [], [], [], [], []
    pcaps = 0
    spool = opts.spool_dir
    writer = SpoolWriter(spool, tar=opts.tar) if spool is not None else None
    try:
        for index, p in enumerate(plans):
            cdr_id = first_id + index
            call_id = f"{rng.getrandbits(64):016x}@{p['caller_domain']}"
            start = timezone.make_aware(p["start"], gen.tz)
            stats = None
            if writer is not None and p["n"] in pcap_set:
                talk = min(p["talk"], 45.0) if p["answered"] else 0.0
                spec = CallSpec(
                    call_id=call_id,
                    calldate=p["start"],
                    caller=p["caller"],
                    called=p["called"],
                    callername=p["callername"],
                    caller_domain=p["caller_domain"],
                    called_domain=p["called_domain"],
                    caller_ip=p["callerip"],
                    called_ip=p["calledip"],
                    codec=p["codec"],
                    answered=p["answered"],
                    final_code=p["code"],
                    final_reason=p["text"],
                    ring_s=min(p["ring"], 6.0),
                    talk_s=max(talk, 2.0) if p["answered"] else 0.0,
                    hangup_by=p["hangup"],
                    user_agent=p["ua"],
                    server=p["server"],
                    extra_headers={FIXED_HEADER: p["tag"]} if p["tag"] else {},
                    dtmf=p["dtmf"],
                    early_media=not p["answered"] and p["code"] in EARLY_MEDIA_CODES,
                    loss_ratio=p["loss"],
                    caller_signal=SignalSpec(kind="speech", f0=110.0 + (index % 7) * 10),
                    called_signal=SignalSpec(kind="tone", freq=400.0 + (index % 5) * 100)
                    if index % 3 == 0
                    else SignalSpec(kind="speech", f0=200.0 + (index % 5) * 10),
                    seed=opts.seed + index,
                )
                stats = generate_call(spec)
                files = writer.add_call(spec, stats, wav=True)
                pcaps += 1
            row, extra = _cdr_row(
                cdr_id, start, p, stats, files if stats else None, responses, uas, busy_reason, rng
            )
            rows_cdr.append(row)
            rows_next.append(
                {
                    "cdr": cdr_id,
                    "calldate": start,
                    "fbasename": call_id,
                    f"custom_header__{FIXED_HEADER}": p["tag"],
                }
            )
            if p["account"] or p["tenant"]:
                rows_next1.append(
                    {
                        "cdr": cdr_id,
                        "calldate": start,
                        "custom_header_1": p["account"],
                        "custom_header_2": p["tenant"],
                    }
                )
            rows_rtp.extend(extra["rtp"])
            rows_sdp.extend(extra["sdp"])
            rows_tar.extend(extra["tar"])
    finally:
        if writer is not None:
            writer.close()

    with transaction.atomic():
        insert(Cdr, rows_cdr)
        _insert_next(rows_next)
        insert(CdrNext1, rows_next1)
        insert(CdrRtp, rows_rtp)
        insert(CdrSdp, rows_sdp)
        insert(CdrTarPart, rows_tar)
        System.objects.create(
            type=DEMO_MARK,
            content=json.dumps(
                {"anchor": opts.anchor.isoformat(), "calls": len(rows_cdr), "seed": opts.seed}
            ),
        )
    return DemoResult(
        created=True,
        calls=len(rows_cdr),
        pcap_calls=pcaps,
        ipv6_calls=sum(1 for p in plans if p["v6"]),
        message="demo data created",
    )


def _insert_next(rows: list[dict]) -> None:
    """cdr_next with the fixed custom header column (not a model field: raw, parameterised)."""
    base = [{k: v for k, v in r.items() if not k.startswith("custom_header__")} for r in rows]
    insert(CdrNext, base)
    column = f"custom_header__{FIXED_HEADER}"
    qn = connection.ops.quote_name
    tagged = [(r[column], r["cdr"]) for r in rows if r.get(column)]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {qn('cdr_next')} SET {qn(column)} = %s WHERE {qn('cdr_ID')} = %s",  # noqa: S608
            tagged,
        )


def cdr_rtp_rows(result, cdr_id: int, start: dt.datetime) -> list[dict]:
    """The ``cdr_rtp`` rows the sniffer writes for a generated call's streams."""
    return [
        dict(
            cdr=cdr_id,
            calldate=start,
            saddr=stream.saddr,
            sport=stream.sport,
            daddr=stream.daddr,
            dport=stream.dport,
            ssrc=stream.ssrc,
            received=stream.received,
            loss=stream.lost,
            firsttime=Decimal(str(round(stream.first_time, 3))),
            payload=stream.codec,
            index=stream.index + 1,  # cdr_rtp.index is 1-based
            sdp_ptime=20,
            rtp_ptime=20,
            duration=Decimal(str(round(stream.duration, 3))),
            flags=(1 << 1) | (1 << 2 if stream.is_caller else 1 << 3),
        )
        for stream in result.streams
    ]


def _quality(rng: random.Random, loss_ratio: float, received: int) -> dict:
    """Plausible RTP quality numbers for one side (values as the sniffer stores them)."""
    lost = int(received * loss_ratio)
    jitter = rng.uniform(0.5, 4) + loss_ratio * 200 * rng.random()
    mos = max(10, min(45, int(round(45 - loss_ratio * 150 - max(0, jitter - 10) / 3))))
    return {
        "lost": lost,
        "avgjitter_mult10": int(jitter * 10),
        "maxjitter": int(jitter * rng.uniform(1.5, 4)) + 1,
        "mos_f1_mult10": mos,
        "mos_f2_mult10": mos,
        "mos_adapt_mult10": mos,
        "mos_min_mult10": mos,
        "mos_f1_min_mult10": max(10, mos - rng.randint(0, 6)),
        "packet_loss_perc_mult1000": int(lost * 100_000 / max(1, received + lost)),
        "rtcp_avgjitter_mult10": int(jitter * 10),
        "rtcp_maxjitter": int(jitter * 2),
        "rtcp_avgfr_mult10": int(loss_ratio * 2560),
        "rtcp_maxfr": int(loss_ratio * 256 * 2),
        "sl1": lost,
        "d50": rng.randint(0, 3) if jitter > 20 else 0,
    }


def _cdr_row(cdr_id, start, p, stats, files, responses, uas, busy_reason, rng):
    extra = {"rtp": [], "sdp": [], "tar": []}
    answered = p["answered"]
    if stats is not None:
        duration = Decimal(str(round(stats.duration, 3)))
        connect = (
            None
            if stats.connect_duration is None
            else Decimal(str(round(stats.connect_duration, 3)))
        )
        progress = stats.progress_time
        first_rtp = stats.first_rtp_time
        a_recv, b_recv = stats.a_received, stats.b_received
        a_lost, b_lost = stats.a_lost, stats.b_lost
        flags = stats.flags | (files.flags if files else 0)
        whohanged = stats.whohanged
        bye = stats.bye
    else:
        connect = Decimal(str(p["talk"])) if answered else None
        duration = Decimal(str(round(p["ring"] + p["talk"] + (0.3 if answered else 0.0), 3)))
        progress = round(rng.uniform(0.05, 2.0), 3)
        first_rtp = round(p["ring"] + 0.05, 3) if answered else None
        packets = int(p["talk"] * 50)
        a_recv = b_recv = packets if answered else None
        a_lost = b_lost = None
        flags = FLAG_SAVE_FLAGS_VALID | FLAG_SIP_PCAP | FLAG_TRANSPORT_UDP
        whohanged = p["hangup"] if answered else None
        bye = 3 if answered else 0
    row = dict(
        ID=cdr_id,
        calldate=start,
        callend=start + dt.timedelta(seconds=float(duration)),
        duration=duration,
        connect_duration=connect,
        progress_time=None if progress is None else Decimal(str(round(progress, 3))),
        first_rtp_time=None if first_rtp is None else Decimal(str(round(first_rtp, 3))),
        caller=p["caller"],
        caller_reverse=p["caller"][::-1],
        callername=p["callername"],
        callername_reverse=p["callername"][::-1],
        caller_domain=p["caller_domain"],
        called=p["called"],
        called_reverse=p["called"][::-1],
        called_domain=p["called_domain"],
        sipcallerip=p["callerip"],
        sipcalledip=p["calledip"],
        sipcallerport=5060,
        sipcalledport=5060,
        whohanged=whohanged,
        bye=bye,
        lastSIPresponse_id=responses[f"{p['code']} {p['text']}"],
        lastSIPresponseNum=p["code"],
        reason_q850_cause=17 if p["code"] == 486 else None,
        reason_q850_text_id=busy_reason if p["code"] == 486 else None,
        a_ua_id=uas[p["ua"]],
        b_ua_id=uas[p["server"]],
        id_sensor=p["sensor"],
        flags=flags,
        response_time_100=rng.randint(1, 40),
        response_time_xxx=rng.randint(20, 900),
    )
    if answered:
        a_q = _quality(rng, p["loss"], a_recv or 0)
        b_q = _quality(rng, p["loss"] / 3, b_recv or 0)
        if stats is not None:
            a_q["lost"], b_q["lost"] = a_lost or 0, b_lost or 0
        for side, q, recv in (("a", a_q, a_recv), ("b", b_q, b_recv)):
            for key, value in q.items():
                row[f"{side}_{key}"] = value
            row[f"{side}_received"] = recv
            row[f"{side}_payload"] = p["codec"]
            row[f"{side}_rtp_ptime"] = 20
            row[f"{side}_saddr"] = p["callerip"] if side == "a" else p["calledip"]
        row["a_index"], row["b_index"] = 1, 0
        row["payload"] = p["codec"]
        row["lost"] = max(a_q["lost"], b_q["lost"])
        row["jitter_mult10"] = max(a_q["avgjitter_mult10"], b_q["avgjitter_mult10"])
        row["mos_min_mult10"] = min(a_q["mos_min_mult10"], b_q["mos_min_mult10"])
        row["packet_loss_perc_mult1000"] = max(
            a_q["packet_loss_perc_mult1000"], b_q["packet_loss_perc_mult1000"]
        )
        row["rtcp_avgjitter_mult10"] = a_q["rtcp_avgjitter_mult10"] + b_q["rtcp_avgjitter_mult10"]
        row["rtcp_avgfr_mult10"] = a_q["rtcp_avgfr_mult10"] + b_q["rtcp_avgfr_mult10"]
    elif stats is not None and stats.streams:
        # early media of a failed call: the called side's announcement stream only
        row["b_received"], row["b_lost"] = b_recv, b_lost or 0
        row["b_payload"] = row["payload"] = p["codec"]
        row["b_rtp_ptime"], row["b_index"] = 20, 0
        row["b_saddr"] = p["calledip"]
    if stats is not None:
        extra["rtp"].extend(cdr_rtp_rows(stats, cdr_id, start))
        for stream in stats.streams:
            extra["sdp"].append(
                dict(
                    cdr=cdr_id,
                    calldate=start,
                    ip=stream.saddr,
                    port=stream.sport,
                    is_caller=int(stream.is_caller),
                    ptime=20,
                )
            )
        if files is not None:
            for kind, pos in files.tar_parts:
                extra["tar"].append(dict(cdr=cdr_id, calldate=start, type=kind, pos=pos))
    return row, extra
