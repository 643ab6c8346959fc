"""Admin for the sniffer's sensor registry (the ``sensors`` table; host/port = manager port)."""

from __future__ import annotations

from django.contrib import admin

from cdr import schema
from cdr.models import CdrCustomHeader, Sensor


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = ("id_sensor", "name", "host", "port", "timezone_name")
    search_fields = ("name", "host")
    fields = ("id_sensor", "name", "host", "port", "timezone_name")

    # Older sniffers' sensors tables lack some columns: only touch those that exist.
    def get_queryset(self, request):
        return super().get_queryset(request).only(*schema.present_fields(Sensor))

    def get_fields(self, request, obj=None):
        present = set(schema.present_fields(Sensor))
        return [f for f in self.fields if f in present]

    def get_list_display(self, request):
        present = set(schema.present_fields(Sensor))
        return [f for f in self.list_display if f in present]


@admin.register(CdrCustomHeader)
class CdrCustomHeaderAdmin(admin.ModelAdmin):
    """GUI-owned custom header definitions the sniffer reads (cdr_custom_headers)."""

    list_display = (
        "id",
        "name",
        "header_field",
        "type",
        "dynamic_table",
        "dynamic_column",
        "state",
    )
    fields = ("name", "header_field", "type", "dynamic_table", "dynamic_column", "state")
