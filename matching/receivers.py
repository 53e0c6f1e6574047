"""Signal receivers: a saved or deleted row (or a batch of rows written in bulk: enterprises.signals)
marks what to re-evaluate (triggers.py) — nothing more.

Connected in MatchingConfig.ready. Writes that bypass signals (COPY in enterprises/bulk.py,
queryset.update) are not seen: `manage.py match` or the staff "re-run everything" covers them.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models.signals import post_delete, post_save

from enterprises.models import Enterprise
from enterprises.signals import rows_saved
from matching import dependencies, triggers
from policies.models import Benefit, Clause, FactDefinition, PolicyDocument


def enterprise_saved(sender, instance: Enterprise, created: bool = False, **kwargs) -> None:
    triggers.enterprise_changed(instance.pk, dependencies.NEW if created else dependencies.ENTERPRISE)


def enterprise_row_changed(sender, instance, **kwargs) -> None:
    """A yearly figure, recognition, project or stored fact value was saved or deleted."""
    triggers.enterprise_changed(instance.enterprise_id, dependencies.source_of(instance))


def enterprise_rows_saved(sender, rows, created: bool, **kwargs) -> None:
    """Rows written in bulk (the import): the marks their post_save would have made, one statement per source."""
    if sender not in dependencies.WATCHED_MODELS:
        return
    by_source: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if sender is Enterprise:
            by_source[dependencies.NEW if created else dependencies.ENTERPRISE].add(row.pk)
        else:
            by_source[dependencies.source_of(row)].add(row.enterprise_id)
    for source, enterprise_ids in by_source.items():
        triggers.enterprises_changed(sorted(enterprise_ids), source)


def benefit_saved(sender, instance: Benefit, **kwargs) -> None:
    triggers.policy_changed("benefit", instance.pk)


def clause_saved(sender, instance: Clause, **kwargs) -> None:
    triggers.policy_changed("clause", instance.pk)


def document_saved(sender, instance: PolicyDocument, **kwargs) -> None:
    triggers.policy_changed("document", instance.pk)


def fact_definition_saved(sender, instance: FactDefinition, **kwargs) -> None:
    triggers.policy_changed("fact", instance.code)


def connect() -> None:
    # Deleting an enterprise or a benefit deletes its results (cascade): nothing to evaluate.
    post_save.connect(enterprise_saved, sender=Enterprise, dispatch_uid="matching.enterprise_saved")
    for model in dependencies.WATCHED_MODELS[1:]:
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                enterprise_row_changed, sender=model, dispatch_uid=f"matching.{model.__name__}.{name}"
            )
    rows_saved.connect(enterprise_rows_saved, dispatch_uid="matching.enterprise_rows_saved")
    post_save.connect(benefit_saved, sender=Benefit, dispatch_uid="matching.benefit_saved")
    post_save.connect(clause_saved, sender=Clause, dispatch_uid="matching.clause_saved")
    post_save.connect(document_saved, sender=PolicyDocument, dispatch_uid="matching.document_saved")
    post_save.connect(fact_definition_saved, sender=FactDefinition, dispatch_uid="matching.fact_saved")
