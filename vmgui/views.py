"""The landing page: what this server offers until the operator GUI exists."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "vmgui/home.html", {"version": settings.VM_VERSION})
