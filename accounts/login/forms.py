"""The sign-in forms (bounded inputs)."""

from __future__ import annotations

from django import forms


class PasswordForm(forms.Form):
    username = forms.CharField(max_length=150, strip=True)
    password = forms.CharField(max_length=1024, strip=False, widget=forms.PasswordInput)
    next = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        strip=True,
        label="Code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
