"""Wording in the reader's language, without tying the rule language to a configured Django.

Inside the portal (settings configured) these are Django's gettext/pgettext and the active language;
anywhere else (a script, tools/check_policy_fixture.py, a notebook) the language speaks its source
language, Chinese. The strings' catalog is policies/locale (makemessages finds the calls by name).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

try:  # Django is installed with the portal, but the language must not need a configured project
    from django.conf import settings as _settings
    from django.utils import translation as _translation
except ImportError:  # pragma: no cover - the package used on its own
    _settings = _translation = None


def _django_ready() -> bool:
    return _translation is not None and _settings.configured


def gettext(message: str) -> str:
    return _translation.gettext(message) if _django_ready() else message


def pgettext(context: str, message: str) -> str:
    return _translation.pgettext(context, message) if _django_ready() else message


def english() -> bool:
    """Whether the active language is English (then catalog labels use their label_en). The one place
    that decides it: every page, form, API field, e-mail and the engine ask this (or display_lang)."""
    return _django_ready() and (_translation.get_language() or "").startswith("en")


def display_lang() -> Literal["zh", "en"]:
    """The language catalog labels and texts are shown in: "en" when English is active, "zh" otherwise."""
    return "en" if english() else "zh"


def gettext_noop(message: str) -> str:
    """Marks a string for the catalog; translated later, when read."""
    return message


@contextlib.contextmanager
def language(lang: str | None) -> Iterator[None]:
    """Words in `lang` ("zh", "en"; None: the active language) within the block."""
    if lang is None or not _django_ready():
        yield
        return
    with _translation.override("en" if lang.startswith("en") else _settings.LANGUAGE_CODE):
        yield
