"""Sign-in and enrolment forms. Password rules are Django's validators (settings.py: NIST
SP 800-63B — at least 8 characters, up to 256, common passwords refused, no composition rules)."""

from __future__ import annotations

from django import forms


class SignInForm(forms.Form):
    # Named `username` so django-axes reads it; people type their email.
    username = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
                "aria-describedby": "code-help",
            }
        ),
    )
