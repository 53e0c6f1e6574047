"""Fact kinds and value normalisation, shared by the per-enterprise and the bulk path.

They are the types of the rule language and live with it (policies/rules/values.py); the engine
reads them from there so both engine paths and the validator agree on every kind and value.
"""

from policies.rules.values import (
    KIND_OF_TYPE,
    Catalog,
    CatalogFact,
    FactInfo,
    FactValueError,
    Kind,
    kind_of,
    normalize,
    region_members,
    to_decimal,
)

__all__ = [
    "KIND_OF_TYPE",
    "Catalog",
    "CatalogFact",
    "FactInfo",
    "FactValueError",
    "Kind",
    "kind_of",
    "normalize",
    "region_members",
    "to_decimal",
]
