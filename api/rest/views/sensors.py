"""``/api/v1/sensors/``: the sensors the caller may see."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.rest.principal import rights
from cdr.sensors import registry


class SensorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    manager_host = serializers.CharField(required=False, help_text="admins only")
    manager_port = serializers.IntegerField(required=False, help_text="admins only")


class SensorList(APIView):
    """Sensors from the sniffer's ``sensors`` table, limited to the caller's ``enable_sensors``."""

    @extend_schema(responses={200: SensorSerializer(many=True)}, operation_id="sensors_list")
    def get(self, request):
        granted = rights(request)
        out = []
        for sensor in registry.visible_sensors(granted.scope):
            item = {"id": sensor.id, "name": sensor.name}
            if granted.is_admin:
                item["manager_host"], item["manager_port"] = sensor.host, sensor.port
            out.append(item)
        return Response(out)
