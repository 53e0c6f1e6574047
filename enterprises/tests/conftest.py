from pathlib import Path

import pytest
import yaml

from policies.models import FactDefinition, ItemKind

FACTS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "facts"
ITEMS_DIR = FACTS_DIR.parent / "items"


def load_fact_catalog() -> dict[str, FactDefinition]:
    """The enterprise catalog rows of fixtures/facts/*.yaml (the policies loader's job in production;
    formulas need their inputs: the loader's tests cover them), with the item kinds and their facts."""
    for path in sorted(ITEMS_DIR.glob("*.yaml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("item_kinds") or []:
            ItemKind.objects.update_or_create(
                code=entry["code"],
                defaults={
                    "label_zh": entry["label_zh"],
                    "label_en": entry["label_en"],
                    "source_file": path.name,
                },
            )
    rows = {}
    for path in sorted(FACTS_DIR.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if entry.get("formula"):
                continue
            defaults = {
                "type": entry["type"],
                "unit": entry.get("unit") or "",
                "label_zh": entry["label_zh"],
                "label_en": entry["label_en"],
                "description": entry.get("description") or "",
                "choices": entry.get("choices") or [],
                "derived": entry.get("derived", "stored"),
                "item_kind": entry.get("item_kind") or "",
                "source_file": path.name,
            }
            rows[entry["code"]], _ = FactDefinition.objects.update_or_create(
                code=entry["code"], defaults=defaults
            )
    return rows


@pytest.fixture
def fact_catalog(db) -> dict[str, FactDefinition]:
    return load_fact_catalog()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
