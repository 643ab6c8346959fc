"""``/settings/``: the user's time zone and date format (every GUI page shows times in them)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.preferences import DATE_FORMATS, preferences_of, save_preferences, time_zones
from gui.access import gui_page


@gui_page()
def preferences_page(request: HttpRequest) -> HttpResponse:
    prefs = preferences_of(request.user)
    error = ""
    if request.method == "POST":
        zone = request.POST.get("time_zone", "").strip()[:64]
        fmt = request.POST.get("date_format", "")[:32]
        try:
            save_preferences(request.user, time_zone=zone, date_format=fmt)
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, "Preferences saved.")
            return redirect("gui:preferences")
    return render(
        request,
        "gui/preferences.html",
        {
            "prefs": prefs,
            "zones": time_zones(),
            "formats": DATE_FORMATS.items(),
            "now": timezone.now(),
            "error": error,
        },
        status=400 if error else 200,
    )
