"""``/api/v1/cdrs/{id}/``: one call in full, and its media and SIP history."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit
from accounts.models import AuditEvent
from api.rest import listing
from api.rest.principal import require, rights
from api.rest.problems import BadParameter, problem
from api.rest.renderers import FastJSONRenderer
from api.rest.rows import cdr_json
from cdr.media import service as media
from cdr.query.customheaders import header_names
from cdr.query.detail import call_detail
from cdr.query.scope import header_visible
from cdr.siphistory import msc
from cdr.siphistory.extract import call_flow
from cdr.siphistory.textdump import text_dump
from vmgui.responses import attachment, file_response, prefetched

BINARY = OpenApiTypes.BINARY


class CdrPageSerializer(serializers.Serializer):
    results = serializers.ListField(child=serializers.DictField())
    next = serializers.URLField(allow_null=True)
    count = serializers.IntegerField(required=False)


def _headers(request) -> list[str]:
    scope = rights(request).scope
    return [h for h in header_names() if header_visible(scope, h)]


class CsvRenderer(BaseRenderer):
    """Lets content negotiation accept ``Accept: text/csv``; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode()  # only reached for an error answer


class CdrList(APIView):
    """CDRs matching the filters (every filter of the query engine), newest first, in cursor
    pages; ``format=csv`` (or ``Accept: text/csv``) streams every matching CDR as CSV."""

    renderer_classes = [FastJSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=listing.openapi_parameters(),
        responses={
            (200, "application/json"): CdrPageSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
        },
        operation_id="cdrs_list",
    )
    def get(self, request):
        granted = require(request, "can_cdr", "reading CDRs")
        f = listing.filter_of(request)
        headers = _headers(request)
        wants_csv = request.query_params.get("format") == "csv" or (
            request.accepted_renderer.format == "csv"
        )
        if wants_csv:
            chunks = listing.csv_rows(f, granted.scope, headers, listing.descending_of(request))
            response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
            return attachment(response, "cdrs.csv")
        return Response(listing.page(request, f, granted.scope, headers))


class CdrDetail(APIView):
    """A CDR with its RTP streams, proxies, DTMF events, custom headers and other legs."""

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="no such CDR")},
        operation_id="cdrs_retrieve",
    )
    def get(self, request, cdr_id: int):
        granted = require(request, "can_cdr", "reading CDRs")
        detail = call_detail(cdr_id, granted.scope, _headers(request))
        if detail is None:
            return problem(404, f"no such CDR: {cdr_id}")
        return Response(cdr_json(detail))


def _call(request, cdr_id: int):
    (call,) = media.find_calls([cdr_id], rights(request).scope)
    return call


def _audit(request, action: str, call) -> None:
    audit.record(action, user=request.user, request=request, face="rest", object_id=call.cdr_id)


class CdrPcap(APIView):
    """The call's SIP+RTP packets as one pcap (``sip_only=true``: SIP only)."""

    @extend_schema(
        parameters=[OpenApiParameter("sip_only", bool)],
        responses={(200, "application/vnd.tcpdump.pcap"): BINARY},
        operation_id="cdrs_pcap",
    )
    def get(self, request, cdr_id: int):
        require(request, "can_pcap", "downloading PCAPs")
        call = _call(request, cdr_id)
        rtp = request.query_params.get("sip_only", "false").lower() not in ("1", "true", "yes")
        # opened and its first bytes read now: a missing or damaged file is a 404/422 here
        chunks = prefetched(media.pcap_stream([call], rtp=rtp))
        response = StreamingHttpResponse(chunks, content_type=media.CONTENT_TYPES["pcap"])
        _audit(request, AuditEvent.Action.PCAP_DOWNLOAD, call)
        return attachment(response, call.download_name("pcap"))


class CdrRecording(APIView):
    """The call's audio: the sniffer's own recording, or decoded from its RTP (HTTP Range)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["wav", "ogg"], description="default wav"),
            OpenApiParameter("after_connect", bool, description="only after the call connected"),
        ],
        responses={
            (200, "audio/x-wav"): BINARY,
            (206, "audio/x-wav"): BINARY,
            (200, "audio/ogg"): BINARY,
            (206, "audio/ogg"): BINARY,
        },
        operation_id="cdrs_recording",
    )
    def get(self, request, cdr_id: int):
        require(request, "can_download_audio", "downloading recordings")
        fmt = request.query_params.get("format", "wav").lower()
        if fmt not in ("wav", "ogg"):
            raise BadParameter({"format": ["wav or ogg"]})
        after = request.query_params.get("after_connect", "false").lower() in ("1", "true", "yes")
        call = _call(request, cdr_id)
        item = media.recording(call, fmt=fmt, after_connect=after)
        _audit(request, AuditEvent.Action.AUDIO_DOWNLOAD, call)
        return file_response(request, item)


class CdrAudioGraph(APIView):
    """The call's waveform (``P``), spectrogram (``S``) or both (``ALL``) as PNG."""

    @extend_schema(
        parameters=[
            OpenApiParameter("type", str, enum=["S", "P", "ALL"]),
            OpenApiParameter("side", str, enum=["L", "R"], description="caller (L) or called (R)"),
        ],
        responses={(200, "image/png"): BINARY},
        operation_id="cdrs_audiograph",
    )
    def get(self, request, cdr_id: int):
        require(request, "can_graphs", "viewing audio graphs")
        kind = request.query_params.get("type", "ALL").upper()
        if kind not in ("S", "P", "ALL"):
            raise BadParameter({"type": ["S, P or ALL"]})
        side = request.query_params.get("side", "").upper() or None
        if side not in (None, "L", "R"):
            raise BadParameter({"side": ["L or R"]})
        call = _call(request, cdr_id)
        return HttpResponse(media.audio_graph(call, kind, side), content_type="image/png")


def _message_json(m, full: bool) -> dict:
    out = {
        "index": m.index,
        "time_us": m.ts_us,
        "src": m.src,
        "src_port": m.sport,
        "dst": m.dst,
        "dst_port": m.dport,
        "transport": m.transport,
        "first_line": m.first_line,
        "method": m.method,
        "is_request": m.is_request,
        "size": m.size,
        "retransmission": m.retransmission,
        "cdr_id": m.cdr_id,
    }
    if full:
        out["headers"] = [[n, v] for n, v in m.headers]
        out["body"] = m.body
    return out


class CdrSipHistory(APIView):
    """The call's SIP messages, RTP streams and DTMF as JSON (``format=text``: every message in
    full as text; ``format=svg``: the ladder diagram). Whole messages need ``can_pcap``."""

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "text", "svg"])],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/plain"): OpenApiTypes.STR,
            (200, "image/svg+xml"): OpenApiTypes.STR,
        },
        operation_id="cdrs_sip_history",
    )
    def get(self, request, cdr_id: int):
        granted = require(request, "can_cdr", "reading a call's SIP history")
        fmt = request.query_params.get("format", "json").lower()
        if fmt not in ("json", "text", "svg"):
            raise BadParameter({"format": ["json, text or svg"]})
        full = granted.has("can_pcap")
        if fmt == "text" and not full:
            require(request, "can_pcap", "reading whole SIP messages")
        call = _call(request, cdr_id)
        flow = call_flow([call])
        if fmt == "svg":
            diagram = msc.build(flow, time_zone=settings.TIME_ZONE, title=f"CDR {cdr_id}")
            return HttpResponse(msc.to_svg(diagram), content_type="image/svg+xml")
        if fmt == "text":
            return HttpResponse(text_dump(flow, [call]), content_type="text/plain; charset=utf-8")
        return Response(
            {
                "messages": [_message_json(m, full) for m in flow.messages],
                "streams": [vars(s).copy() for s in flow.streams],
                "dtmf": [vars(d).copy() for d in flow.dtmf],
                "notes": flow.notes,
            }
        )
