"""``/api/v1/`` resources, ``/api/schema/`` (OpenAPI 3) and ``/api/docs/`` (Swagger UI, local)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api.rest.problems import not_found
from api.rest.views import active, admin, audit, cdrs, reports, sensors, shares, tokens

router = SimpleRouter(trailing_slash="/?")
router.register("groups", admin.GroupViewSet, basename="groups")
router.register("users", admin.UserViewSet, basename="users")
router.register("reports", reports.ReportViewSet, basename="reports")

v1 = [
    path("cdrs/", cdrs.CdrList.as_view(), name="cdrs"),
    path("cdrs/<int:cdr_id>/", cdrs.CdrDetail.as_view(), name="cdr"),
    path("cdrs/<int:cdr_id>/pcap", cdrs.CdrPcap.as_view(), name="cdr-pcap"),
    path("cdrs/<int:cdr_id>/recording", cdrs.CdrRecording.as_view(), name="cdr-recording"),
    path("cdrs/<int:cdr_id>/audiograph", cdrs.CdrAudioGraph.as_view(), name="cdr-audiograph"),
    path("cdrs/<int:cdr_id>/sip-history", cdrs.CdrSipHistory.as_view(), name="cdr-sip-history"),
    path("sensors/", sensors.SensorList.as_view(), name="sensors"),
    path("active-calls/", active.ActiveCallList.as_view(), name="active-calls"),
    path(
        "active-calls/<int:sensor_id>/<str:call_ref>/pause",
        active.ActiveCallAction.as_view(),
        name="active-call-pause",
    ),
    path(
        "active-calls/<int:sensor_id>/<str:call_ref>/unpause",
        active.ActiveCallUnpause.as_view(),
        name="active-call-unpause",
    ),
    path("audit/", audit.AuditList.as_view(), name="audit"),
    path("reports/<int:report_id>/summary", reports.ReportSummary.as_view(), name="report-summary"),
    path("tokens/", tokens.TokenList.as_view(), name="tokens"),
    path("tokens/<int:token_id>/", tokens.TokenDetail.as_view(), name="token"),
    path("shares/", shares.ShareList.as_view(), name="shares"),
    path("shares/<int:share_id>/", shares.ShareDetail.as_view(), name="share"),
    path("", include(router.urls)),
]

app_name = "rest"
urlpatterns = [
    path("api/v1/", include(v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="rest:schema"), name="docs"),
    re_path(r"^api/", not_found),
]
