"""The share form of the call page: every option of api.php ``getShareURL`` as form fields.

The form only reads and bounds the fields; ``sharing.service.create`` decides (rights, the
call in the user's scope, password rules) and its refusals are shown on the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from sharing import service
from sharing.models import Share

WHAT_CALL = "call"
WHAT_LEGS = "legs"


class ShareForm(forms.Form):
    """A new share link of one call (or of every leg of its Call-ID)."""

    kind = forms.ChoiceField(
        label="Who can open the link",
        choices=[
            (Share.Kind.PUBLIC, "Anyone with the link (public)"),
            (Share.Kind.PROTECTED, "Anyone with the link and its password"),
            (Share.Kind.LOGIN, "Signed-in users who may see this call"),
        ],
        initial=Share.Kind.PUBLIC,
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label="Password (password-protected links; empty = generate one)",
        required=False,
        max_length=service.MAX_PASSWORD_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    sip_history = forms.BooleanField(
        label="SIP history (ladder and messages)", required=False, initial=True
    )
    # offered only to users with can_download_audio and can_pcap (the template); the service
    # refuses it for anyone else
    rtp = forms.BooleanField(label="Audio player and PCAP download", required=False)
    anon_ips = forms.BooleanField(label="Anonymise IP addresses", required=False)
    what = forms.ChoiceField(
        label="Calls",
        choices=[
            (WHAT_CALL, "This call only"),
            (WHAT_LEGS, "Every leg with this Call-ID"),
        ],
        initial=WHAT_CALL,
        widget=forms.RadioSelect,
    )
    cid_interval = forms.IntegerField(
        label="Legs within (seconds of the latest one)",
        min_value=0,
        max_value=service.MAX_CID_INTERVAL,
        initial=service.DEFAULT_CID_INTERVAL,
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # the limits are settings (read per form: tests and deployments change them)
        self.fields["valid_days"] = forms.IntegerField(
            label=f"Valid for (days, at most {settings.SHARE_MAX_DAYS})",
            min_value=1,
            max_value=settings.SHARE_MAX_DAYS,
            initial=settings.SHARE_DEFAULT_DAYS,
        )

    def options(self, cdr_id: int, call_id: str) -> dict[str, Any]:
        """The keyword arguments of ``sharing.service.create`` (after ``is_valid``)."""
        data = self.cleaned_data
        legs = data["what"] == WHAT_LEGS
        interval = data.get("cid_interval")
        return {
            "cdr_ids": [] if legs else [cdr_id],
            "call_id": call_id if legs else "",
            "cid_interval": service.DEFAULT_CID_INTERVAL if interval is None else interval,
            "rtp": data["rtp"],
            "sip_history": data["sip_history"],
            "anon_ips": data["anon_ips"],
            "valid_days": data["valid_days"],
            "password": data["password"] or None if data["kind"] == Share.Kind.PROTECTED else None,
        }
