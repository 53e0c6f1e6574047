"""The pending marks move to the change records of the apps that write them (enterprises.EnterpriseChange,
policies.PolicyChange): the marks not yet drained are copied there, then matching's tables go."""

from django.db import migrations


def copy_marks(apps, schema_editor):
    for source, target, fields in (
        (
            ("matching", "PendingEnterpriseChange"),
            ("enterprises", "EnterpriseChange"),
            ("enterprise_id", "source"),
        ),
        (("matching", "PendingPolicyChange"), ("policies", "PolicyChange"), ("kind", "key")),
    ):
        old, new = apps.get_model(*source), apps.get_model(*target)
        rows = [
            new(**{name: getattr(mark, name) for name in (*fields, "marked_at")})
            for mark in old.objects.all()
        ]
        new.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


def copy_back(apps, schema_editor):
    for source, target, fields in (
        (
            ("enterprises", "EnterpriseChange"),
            ("matching", "PendingEnterpriseChange"),
            ("enterprise_id", "source"),
        ),
        (("policies", "PolicyChange"), ("matching", "PendingPolicyChange"), ("kind", "key")),
    ):
        old, new = apps.get_model(*source), apps.get_model(*target)
        rows = [
            new(**{name: getattr(mark, name) for name in (*fields, "marked_at")})
            for mark in old.objects.all()
        ]
        new.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0007_itemkey_item_results"),
        ("enterprises", "0011_inval15_change_records"),
        ("policies", "0011_inval15_change_records"),
    ]

    operations = [
        migrations.RunPython(copy_marks, copy_back),
        migrations.DeleteModel(name="PendingEnterpriseChange"),
        migrations.DeleteModel(name="PendingPolicyChange"),
    ]
