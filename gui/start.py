"""``/start/``: where a signed-in user lands: the first GUI page their permissions open."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from gui.access import gui_page, rights
from gui.context import NAV


@gui_page()
def start(request: HttpRequest) -> HttpResponseBase:
    granted = rights(request)
    for name, _label, flag in NAV:
        if flag is None or granted.has(flag):
            try:
                return redirect(reverse(name))
            except NoReverseMatch:
                continue
    return redirect("gui:preferences")
