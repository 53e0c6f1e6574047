"""Helpers shared by the self-check tests (the wizard pages and the browser test)."""

import re

from django.apps import apps


def text_of(response) -> str:
    """The visible text of a page, styles dropped and whitespace collapsed."""
    html = re.sub(r"<style>.*?</style>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def field_names(response) -> set[str]:
    """The questions a wizard page asks (form field names, without the page's own controls)."""
    form = response.content.decode().split('<form method="post" novalidate>')[1].split("</form>")[0]
    return set(re.findall(r'name="(\w+)"', form)) - {"csrfmiddlewaretoken", "direction"}


def row_counts() -> dict[str, int]:
    """Rows per model, to prove that something wrote nothing."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}
