"""Wording in the reader's language, without tying the engine to a configured Django: the rule
language's helpers (policies/i18n.py). The catalog of the engine's own strings is matching/locale."""

from policies.i18n import english, gettext, gettext_noop, language, pgettext

__all__ = ["english", "gettext", "gettext_noop", "language", "pgettext"]
