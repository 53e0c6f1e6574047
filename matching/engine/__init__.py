"""The matching engine: pure Python and numpy, no Django. See matching/README.md."""

from matching.engine.amounts import Amount, AmountBasis, potential_amount
from matching.engine.bulk import FactColumns, TableVerdicts, evaluate_table, input_digests
from matching.engine.conditions import ConditionError, Outcome, compile_condition
from matching.engine.fingerprint import ENGINE_VERSION
from matching.engine.gaps import Gap, MissingFact, WhatIf, nearest_gaps, rank_missing_facts, what_if
from matching.engine.spec import BenefitSpec, validity_on
from matching.engine.stacking import Stack, best_total
from matching.engine.values import CatalogFact, FactValueError
from matching.engine.verdict import STATUS_LABELS_ZH, Citation, Reason, Status, Verdict, explain, facts_read

__all__ = [
    "ENGINE_VERSION",
    "STATUS_LABELS_ZH",
    "Amount",
    "AmountBasis",
    "BenefitSpec",
    "CatalogFact",
    "Citation",
    "ConditionError",
    "FactColumns",
    "FactValueError",
    "Gap",
    "MissingFact",
    "Outcome",
    "Reason",
    "Stack",
    "Status",
    "TableVerdicts",
    "Verdict",
    "WhatIf",
    "best_total",
    "compile_condition",
    "evaluate_table",
    "explain",
    "input_digests",
    "facts_read",
    "nearest_gaps",
    "potential_amount",
    "rank_missing_facts",
    "validity_on",
    "what_if",
]
