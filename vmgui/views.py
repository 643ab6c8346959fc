"""The start page: signed-in users go to the GUI; others see what this server offers."""

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponseBase:
    if request.user.is_authenticated:
        return redirect("gui:start")
    return render(request, "vmgui/home.html", {"version": settings.VM_VERSION})
