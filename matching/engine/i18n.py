"""Wording in the reader's language, without tying the engine to a configured Django.

Inside the portal (settings configured) these are Django's gettext/pgettext and the active language;
anywhere else (a script, a notebook) the engine speaks its source language, Chinese. The catalog of
these strings is matching/locale (makemessages finds the calls by name).
"""

from __future__ import annotations

try:  # Django is installed with the portal, but the engine must not need a configured project
    from django.conf import settings as _settings
    from django.utils import translation as _translation
except ImportError:  # pragma: no cover - the engine used on its own
    _settings = _translation = None


def _django_ready() -> bool:
    return _translation is not None and _settings.configured


def gettext(message: str) -> str:
    return _translation.gettext(message) if _django_ready() else message


def pgettext(context: str, message: str) -> str:
    return _translation.pgettext(context, message) if _django_ready() else message


def english() -> bool:
    """Whether the active language is English (then catalog labels use their label_en)."""
    return _django_ready() and (_translation.get_language() or "").startswith("en")


def gettext_noop(message: str) -> str:
    """Marks a string for the catalog; translated later, when read."""
    return message
