"""Models of the tables the VoIPmonitor sniffer writes (and the GUI-owned ones it reads).

All of them are ``managed = False``: Django's migrations never create, alter or drop them, so
pointing vmgui at a live sniffer database changes nothing there. On a fresh database the
``create_sniffer_schema`` command creates them from these models (cdr.ddl), with the sniffer's
own column types. The sniffer adds newer columns by ALTER only on small tables, so a column
declared here may be missing in a real database: cdr.schema introspects the real columns and
the query layer only selects what exists.

Partitioned databases give ``cdr`` the primary key (ID, calldate) and child tables no primary
key at all; Django needs one column, so ``ID`` / ``cdr_ID`` act as the key here (reads only).
"""

from __future__ import annotations

from django.db import models

from cdr.fields import SecondsField, SnifferDateTimeField, SnifferIPField, sniffer

# --- small constructors that attach the sniffer's SQL type ---------------------------------


def _int(sql: str, **kw) -> models.Field:
    kw.setdefault("null", True)
    return sniffer(models.IntegerField(**kw), sql)


def _bigint(sql: str = "bigint unsigned", **kw) -> models.Field:
    kw.setdefault("null", True)
    return sniffer(models.BigIntegerField(**kw), sql)


def _str(length: int = 255, sql: str | None = None, **kw) -> models.Field:
    kw.setdefault("null", True)
    return sniffer(models.CharField(max_length=length, **kw), sql or f"varchar({length})")


def _text(sql: str = "text", **kw) -> models.Field:
    kw.setdefault("null", True)
    return sniffer(models.TextField(**kw), sql)


TINY_U = "tinyint unsigned"
SMALL_U = "smallint unsigned"
MEDIUM_U = "mediumint unsigned"
INT_U = "int unsigned"


class SnifferModel(models.Model):
    """Base of every sniffer-owned table: unmanaged, read through cdr.schema-aware queries."""

    class Meta:
        abstract = True
        managed = False


# --- lookup tables ----------------------------------------------------------------------------


class CdrSipResponse(SnifferModel):
    """Texts of final SIP status lines (``486 Busy Here``), referenced by cdr.lastSIPresponse_id."""

    id = sniffer(models.AutoField(primary_key=True), "mediumint unsigned NOT NULL AUTO_INCREMENT")
    lastSIPresponse = _str(255)

    class Meta(SnifferModel.Meta):
        db_table = "cdr_sip_response"


class CdrSipRequest(SnifferModel):
    """SIP request methods seen in SIP history (only with save_sip_history)."""

    id = sniffer(models.AutoField(primary_key=True), "mediumint unsigned NOT NULL AUTO_INCREMENT")
    request = _str(255)

    class Meta(SnifferModel.Meta):
        db_table = "cdr_sip_request"


class CdrUa(SnifferModel):
    """User-Agent / Server header strings, referenced by cdr.a_ua_id / b_ua_id."""

    id = sniffer(models.AutoField(primary_key=True), "int unsigned NOT NULL AUTO_INCREMENT")
    ua = _str(512)

    class Meta(SnifferModel.Meta):
        db_table = "cdr_ua"


class CdrReason(SnifferModel):
    """Reason header texts; type 1 = SIP, 2 = Q.850."""

    id = sniffer(models.AutoField(primary_key=True), "mediumint unsigned NOT NULL AUTO_INCREMENT")
    type = _int("tinyint")
    reason = _str(255)

    class Meta(SnifferModel.Meta):
        db_table = "cdr_reason"


class Sensor(SnifferModel):
    """A capturing sensor. host/port is where its manager port (5029) is reached."""

    id_sensor = sniffer(models.IntegerField(primary_key=True), "int unsigned NOT NULL")
    name = _str(256)
    host = _str(255)
    port = _int("int")
    timezone_name = _str(64)
    timezone_offset = _int("int")
    timezone_save_at = sniffer(models.DateTimeField(null=True), "datetime")

    class Meta(SnifferModel.Meta):
        db_table = "sensors"

    def __str__(self) -> str:
        return f"{self.id_sensor}: {self.name or ''}"


class System(SnifferModel):
    """Key/value rows: sniffer_db_version, timezone_info_local_sensor, manager_key, ..."""

    id = sniffer(models.AutoField(primary_key=True), "int NOT NULL AUTO_INCREMENT")
    type = _text("text")
    cdate = sniffer(models.DateField(null=True), "date")
    cdatetime = sniffer(models.DateTimeField(null=True), "datetime")
    content = _text("text")

    class Meta(SnifferModel.Meta):
        db_table = "system"


# --- the call record --------------------------------------------------------------------------


class Cdr(SnifferModel):
    """One row per call (the hub). Times are the sniffer's naive local wall clock.

    ``*_multN`` columns hold value × N; NULL means "not measured"; ``a_received``/``b_received``
    include the sniffer's +2 offset when the codec is known. "a" is the stream sent by the
    caller, "b" the one sent by the called party.
    """

    ID = sniffer(
        models.BigAutoField(primary_key=True, db_column="ID"),
        "bigint unsigned NOT NULL AUTO_INCREMENT",
    )
    calldate = sniffer(SnifferDateTimeField(), "DATETIME NOT NULL")
    callend = sniffer(SnifferDateTimeField(), "DATETIME NOT NULL")
    duration = SecondsField()
    connect_duration = SecondsField()
    progress_time = SecondsField()
    first_rtp_time = SecondsField()
    post_bye_delay = sniffer(
        models.DecimalField(max_digits=9, decimal_places=3, null=True), "decimal(9,3)"
    )
    caller = _str()
    caller_domain = _str()
    caller_reverse = _str()
    callername = _str()
    callername_reverse = _str()
    called = _str()
    called_domain = _str()
    called_reverse = _str()
    sipcallerip = SnifferIPField()
    sipcallerport = _int(SMALL_U)
    sipcalledip = SnifferIPField()
    sipcalledport = _int(SMALL_U)
    whohanged = _str(6, sql="enum('caller','callee')")
    bye = _int(TINY_U)
    lastSIPresponse_id = _int(MEDIUM_U)
    lastSIPresponseNum = _int(SMALL_U)
    reason_sip_cause = _int(SMALL_U)
    reason_sip_text_id = _int(MEDIUM_U)
    reason_q850_cause = _int(SMALL_U)
    reason_q850_text_id = _int(MEDIUM_U)
    sighup = _int("tinyint")
    dscp = _int(INT_U)
    a_index = _int("tinyint")
    b_index = _int("tinyint")
    a_payload = _int("int")
    b_payload = _int("int")
    a_saddr = SnifferIPField()
    b_saddr = SnifferIPField()
    a_ua_id = _int(INT_U)
    b_ua_id = _int(INT_U)
    payload = _int("int")
    jitter_mult10 = _int(MEDIUM_U)
    mos_min_mult10 = _int(TINY_U)
    packet_loss_perc_mult1000 = _int(MEDIUM_U)
    delay_sum = _int(MEDIUM_U)
    delay_cnt = _int(MEDIUM_U)
    delay_avg_mult100 = _int(MEDIUM_U)
    rtcp_avgfr_mult10 = _int(SMALL_U)
    rtcp_avgjitter_mult10 = _int(SMALL_U)
    lost = _int(MEDIUM_U)
    caller_clipping_div3 = _int(SMALL_U)
    called_clipping_div3 = _int(SMALL_U)
    caller_silence = _int(TINY_U)
    called_silence = _int(TINY_U)
    caller_silence_end = _int(SMALL_U)
    called_silence_end = _int(SMALL_U)
    response_time_100 = _int(SMALL_U)
    response_time_xxx = _int(SMALL_U)
    max_retransmission_invite = _int(TINY_U)
    ttl_min = _int(TINY_U)
    ttl_max = _int(TINY_U)
    ttl_avg_mult10 = _int(SMALL_U)
    flags = _bigint()
    vlan = _int("smallint")
    id_sensor = _int(SMALL_U)
    price_operator_mult1000000 = _bigint()
    price_operator_currency_id = _int(TINY_U)
    price_customer_mult1000000 = _bigint()
    price_customer_currency_id = _int(TINY_U)

    class Meta(SnifferModel.Meta):
        db_table = "cdr"

    def __str__(self) -> str:
        return f"CDR {self.ID} {self.caller} -> {self.called}"


# Per-side RTP quality columns (a_* and b_*), declared in a loop because there are ~80 of them.
_PER_SIDE_COLUMNS: list[tuple[str, str]] = [
    ("received", MEDIUM_U),
    ("lost", MEDIUM_U),
    ("reordered", MEDIUM_U),
    ("avgjitter_mult10", MEDIUM_U),
    ("maxjitter", SMALL_U),
    *[(f"sl{n}", MEDIUM_U) for n in range(1, 11)],
    *[(f"d{n}", MEDIUM_U) for n in (50, 70, 90, 120, 150, 200, 300)],
    ("mos_lqo_mult10", TINY_U),
    *[(f"mos_{k}_min_mult10", TINY_U) for k in ("f1", "f2", "adapt", "xr", "silence")],
    *[(f"mos_{k}_mult10", TINY_U) for k in ("f1", "f2", "adapt", "xr", "silence")],
    ("mos_min_mult10", TINY_U),
    ("rtcp_loss", "mediumint"),
    ("rtcp_maxfr", SMALL_U),
    ("rtcp_avgfr_mult10", SMALL_U),
    ("rtcp_maxjitter", SMALL_U),
    ("rtcp_avgjitter_mult10", SMALL_U),
    ("rtcp_avgrtd_mult10", SMALL_U),
    ("rtcp_maxrtd_mult10", SMALL_U),
    ("rtcp_fraclost_pktcount", INT_U),
    ("rtp_ptime", TINY_U),
    ("packet_loss_perc_mult1000", MEDIUM_U),
    ("delay_sum", MEDIUM_U),
    ("delay_cnt", MEDIUM_U),
    ("delay_avg_mult100", MEDIUM_U),
    ("ttl_min", TINY_U),
    ("ttl_max", TINY_U),
    ("ttl_avg_mult10", SMALL_U),
]
for _side in ("a", "b"):
    for _name, _sql in _PER_SIDE_COLUMNS:
        Cdr.add_to_class(f"{_side}_{_name}", _int(_sql))
    Cdr.add_to_class(
        f"{_side}_last_rtp_from_end",
        sniffer(models.DecimalField(max_digits=9, decimal_places=3, null=True), "decimal(9,3)"),
    )


class CdrNext(SnifferModel):
    """1:1 extension of cdr: the raw Call-ID (``fbasename``), spool index, fixed custom headers.

    Fixed custom headers are extra ``custom_header__<Name>`` columns that the sniffer adds by
    ALTER; they are not model fields (their names are data) and are read through cdr.schema.
    ``calldate`` exists only in partitioned databases.
    """

    cdr = models.OneToOneField(
        Cdr, primary_key=True, db_column="cdr_ID", on_delete=models.DO_NOTHING, related_name="next"
    )
    calldate = sniffer(SnifferDateTimeField(), "DATETIME NOT NULL")
    custom_header1 = _str()
    fbasename = _str()
    digest_username = _str()
    match_header = _str(128)
    GeoPosition = _str()
    hold = _str(1024)
    spool_index = _int(TINY_U)

    class Meta(SnifferModel.Meta):
        db_table = "cdr_next"


CDR_NEXT_MAX = 10  # the sniffer's CDR_NEXT_MAX: dynamic custom header tables cdr_next_1..10


def _dynamic_next_model(number: int) -> type[SnifferModel]:
    attrs = {
        "__module__": __name__,
        "__doc__": f"Dynamic custom headers, table cdr_next_{number} (cdr_custom_headers.dynamic_table).",
        "cdr": models.OneToOneField(
            Cdr,
            primary_key=True,
            db_column="cdr_ID",
            on_delete=models.DO_NOTHING,
            related_name=f"next_{number}",
        ),
        "calldate": sniffer(SnifferDateTimeField(), "DATETIME NOT NULL"),
        "Meta": type("Meta", (SnifferModel.Meta,), {"db_table": f"cdr_next_{number}"}),
    }
    for column in range(1, 11):
        attrs[f"custom_header_{column}"] = _str(1024)
    return type(f"CdrNext{number}", (SnifferModel,), attrs)


CDR_NEXT_MODELS: dict[int, type[SnifferModel]] = {
    n: _dynamic_next_model(n) for n in range(1, CDR_NEXT_MAX + 1)
}
globals().update({m.__name__: m for m in CDR_NEXT_MODELS.values()})


class CdrCustomHeader(SnifferModel):
    """GUI-owned definitions of custom SIP headers (the sniffer reads it, never creates it).

    type 'fixed' (or NULL) → column ``cdr_next.custom_header__<header_field>``; otherwise the
    value is in ``cdr_next_<dynamic_table>.custom_header_<dynamic_column>``.
    """

    id = sniffer(models.AutoField(primary_key=True), "int unsigned NOT NULL AUTO_INCREMENT")
    name = _str()
    header_field = _str()
    type = _str(7, sql="enum('fixed','dynamic') DEFAULT 'dynamic'")
    dynamic_table = _int("smallint")
    dynamic_column = _int("smallint")
    state = _str(6, sql="enum('active','delete') DEFAULT 'active'")
    special_type = _str(32)
    do_not_add_colon = _int("tinyint DEFAULT 0")
    left_border = _str()
    right_border = _str()
    regular_expression = _str()
    screen_popup_field = _int("tinyint DEFAULT 0")
    direction = _str(16)
    select_occurrence = _int("tinyint DEFAULT 0")
    nth_occurrence = _int("int DEFAULT 0")
    allow_missing_header = _int("tinyint DEFAULT 0")
    cseq_method = _str(64)
    sip_response_code = _str(64)
    use_at = sniffer(models.DateTimeField(null=True), "datetime")

    class Meta(SnifferModel.Meta):
        db_table = "cdr_custom_headers"

    def __str__(self) -> str:
        return self.name or self.header_field or str(self.id)


# --- per-call child tables ---------------------------------------------------------------------


class CdrChild(SnifferModel):
    """Base of cdr child tables: ``cdr_ID`` (+ ``calldate`` when partitioned)."""

    cdr = models.ForeignKey(
        Cdr, primary_key=True, db_column="cdr_ID", on_delete=models.DO_NOTHING, related_name="+"
    )
    calldate = sniffer(SnifferDateTimeField(), "DATETIME NOT NULL")

    class Meta(SnifferModel.Meta):
        abstract = True


class CdrRtp(CdrChild):
    """One row per saved RTP stream. ``index`` is 1-based (graph file index = index - 1)."""

    saddr = SnifferIPField()
    sport = _int(SMALL_U)
    daddr = SnifferIPField()
    dport = _int(SMALL_U)
    ssrc = _int(INT_U)
    received = _int(MEDIUM_U)
    loss = _int(MEDIUM_U)
    firsttime = SecondsField()
    payload = _int(SMALL_U)
    maxjitter_mult10 = _int(SMALL_U)
    index = _int(TINY_U)
    sdp_ptime = _int(TINY_U)
    rtp_ptime = _int(TINY_U)
    flags = _bigint()
    duration = SecondsField()
    ttl_min = _int(TINY_U)
    ttl_max = _int(TINY_U)
    ttl_avg_mult10 = _int(SMALL_U)

    class Meta(CdrChild.Meta):
        db_table = "cdr_rtp"


class CdrProxy(CdrChild):
    """Distinct SIP proxy IPs a call traversed (always has calldate)."""

    dst = SnifferIPField()

    class Meta(CdrChild.Meta):
        db_table = "cdr_proxy"


class CdrDtmf(CdrChild):
    """DTMF events (dtmf2db). type: 0 SIP INFO, 1 inband, 2 RFC 2833."""

    daddr = SnifferIPField()
    saddr = SnifferIPField()
    firsttime = SecondsField()
    dtmf = _str(1, sql="char(1)")
    type = _int(TINY_U)

    class Meta(CdrChild.Meta):
        db_table = "cdr_dtmf"


class CdrSiphistory(CdrChild):
    """SIP messages of a call (save_sip_history); ``time`` is µs since the call's first packet."""

    time = _bigint()
    SIPrequest_id = _int(MEDIUM_U)
    SIPresponse_id = _int(MEDIUM_U)
    SIPresponseNum = _int(SMALL_U)

    class Meta(CdrChild.Meta):
        db_table = "cdr_siphistory"


class CdrSdp(CdrChild):
    """SDP media endpoints announced in the call."""

    ip = SnifferIPField()
    port = _int(SMALL_U)
    is_caller = _int(TINY_U)
    ptime = _int(TINY_U)

    class Meta(CdrChild.Meta):
        db_table = "cdr_sdp"


class CdrTarPart(CdrChild):
    """Byte offsets of the call's member headers in an uncompressed spool tar.

    type: 1 SIP, 2 RTP, 3 GRAPH.
    """

    type = _int(TINY_U)
    pos = _bigint()

    class Meta(CdrChild.Meta):
        db_table = "cdr_tar_part"


class CdrAudioTranscribe(SnifferModel):
    """Transcripts; joined on (calldate, fbasename), there is no cdr_ID. a = caller channel."""

    ID = sniffer(
        models.BigAutoField(primary_key=True, db_column="ID"),
        "bigint unsigned NOT NULL AUTO_INCREMENT",
    )
    calldate = sniffer(SnifferDateTimeField(), "DATETIME NOT NULL")
    fbasename = _str()
    a_language = _str(10)
    b_language = _str(10)
    a_text = _text("mediumtext")
    b_text = _text("mediumtext")
    a_segments = _text("mediumtext")
    b_segments = _text("mediumtext")

    class Meta(SnifferModel.Meta):
        db_table = "cdr_audio_transcribe"


# --- non-call tables -------------------------------------------------------------------------


class Message(SnifferModel):
    """SIP MESSAGE records (one row per message)."""

    ID = sniffer(
        models.BigAutoField(primary_key=True, db_column="ID"),
        "bigint unsigned NOT NULL AUTO_INCREMENT",
    )
    id_contenttype = _int(INT_U)
    calldate = sniffer(SnifferDateTimeField(), "DATETIME NOT NULL")
    caller = _str()
    caller_domain = _str()
    caller_reverse = _str()
    callername = _str()
    callername_reverse = _str()
    called = _str()
    called_domain = _str()
    called_reverse = _str()
    sipcallerip = SnifferIPField()
    sipcalledip = SnifferIPField()
    bye = _int(TINY_U)
    lastSIPresponse_id = _int(MEDIUM_U)
    lastSIPresponseNum = _int(SMALL_U)
    id_sensor = _int(SMALL_U)
    vlan = _int("smallint")
    a_ua_id = _int(INT_U)
    b_ua_id = _int(INT_U)
    fbasename = _str()
    message = _text("mediumtext")
    content_length = _int(INT_U)
    response_time = _int(SMALL_U)
    spool_index = _int(TINY_U)
    GeoPosition = _str()

    class Meta(SnifferModel.Meta):
        db_table = "message"


class RegisterBase(SnifferModel):
    """Common columns of register_state / register_failed. ``fname`` (µs) names the REG pcap."""

    ID = sniffer(
        models.BigAutoField(primary_key=True, db_column="ID"),
        "bigint unsigned NOT NULL AUTO_INCREMENT",
    )
    id_sensor = _int(INT_U)
    fname = _bigint()
    created_at = sniffer(SnifferDateTimeField(), "DATETIME NOT NULL")
    sipcallerip = SnifferIPField()
    sipcalledip = SnifferIPField()
    sipcallerport = _int(SMALL_U)
    sipcalledport = _int(SMALL_U)
    from_num = _str()
    to_num = _str()
    to_domain = _str()
    contact_num = _str()
    contact_domain = _str()
    digestusername = _str()
    digestrealm = _str()
    ua_id = _int(INT_U)
    flags = _bigint()
    vlan = _int("smallint")
    spool_index = _int(TINY_U)

    class Meta(SnifferModel.Meta):
        abstract = True


class RegisterState(RegisterBase):
    """Registration state changes. state: 1 OK, 2 Failed, 3 UnknownMessageOK, 4 ManyRegMessages,
    5 Expired, 6 Unregister."""

    expires = _int("mediumint unsigned")
    state = _int(TINY_U)

    class Meta(RegisterBase.Meta):
        db_table = "register_state"


class RegisterFailed(RegisterBase):
    """Failed registration attempts, aggregated with ``counter``."""

    counter = _int("int")

    class Meta(RegisterBase.Meta):
        db_table = "register_failed"


SNIFFER_MODELS: list[type[SnifferModel]] = [
    CdrSipResponse,
    CdrSipRequest,
    CdrUa,
    CdrReason,
    Sensor,
    System,
    Cdr,
    CdrNext,
    *CDR_NEXT_MODELS.values(),
    CdrCustomHeader,
    CdrRtp,
    CdrProxy,
    CdrDtmf,
    CdrSiphistory,
    CdrSdp,
    CdrTarPart,
    CdrAudioTranscribe,
    Message,
    RegisterState,
    RegisterFailed,
]
