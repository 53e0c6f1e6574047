"""Out-of-scope pairs leave matching_matchresult for one record per enterprise (OutOfScope) and a view
that shows each of them as a result row (OutOfScopeResult); the GIN index answers "which benefits have
out-of-scope entries" (matching.storage.benefits_with_results) without a scan, on PostgreSQL."""

import django.db.models.deletion
from django.db import migrations, models

# Keep in step with matching.models.OUT_OF_SCOPE_BASE and BENEFIT_SPAN.
VIEW = {
    "postgresql": """
CREATE VIEW matching_outofscoperesult AS
SELECT 4503599627370496 + o.enterprise_id * 1048576 + e.key::bigint AS id,
       o.enterprise_id, e.key::bigint AS benefit_id, 'not_eligible'::varchar(20) AS status, 0::smallint AS score,
       NULL::numeric(16, 2) AS amount, 'not_applicable'::varchar(20) AS amount_basis,
       e.value::varchar(200) AS leaf_outcomes, b.version AS benefit_version, o.engine_version, o.as_of,
       o.evaluated_at
FROM matching_outofscope o CROSS JOIN LATERAL jsonb_each_text(o.benefits) e
JOIN policies_benefit b ON b.id = e.key::bigint
""",
    "sqlite": """
CREATE VIEW matching_outofscoperesult AS
SELECT 4503599627370496 + o.enterprise_id * 1048576 + CAST(e.key AS INTEGER) AS id,
       o.enterprise_id, CAST(e.key AS INTEGER) AS benefit_id, 'not_eligible' AS status, 0 AS score,
       NULL AS amount, 'not_applicable' AS amount_basis, e.value AS leaf_outcomes, b.version AS benefit_version,
       o.engine_version, o.as_of, o.evaluated_at
FROM matching_outofscope o, json_each(o.benefits) e
JOIN policies_benefit b ON b.id = CAST(e.key AS INTEGER)
""",
}


def create_view(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(VIEW[vendor])
    if vendor == "postgresql":
        schema_editor.execute("CREATE INDEX matching_outofscope_benefits ON matching_outofscope USING gin (benefits)")


def drop_view(apps, schema_editor):
    schema_editor.execute("DROP VIEW IF EXISTS matching_outofscoperesult")


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0011_inval15_change_records'),
        ('matching', '0008_inval15_change_records_moved'),
    ]

    operations = [
        migrations.CreateModel(
            name='OutOfScopeResult',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('status', models.CharField(choices=[('eligible', '符合条件'), ('pending_recognition', '待认定'), ('needs_info', '需补充信息'), ('not_eligible', '不符合条件'), ('not_in_force', '政策未生效或已失效')], max_length=20, verbose_name='结论')),
                ('score', models.PositiveSmallIntegerField(verbose_name='匹配度')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=16, null=True, verbose_name='预估金额（元）')),
                ('amount_basis', models.CharField(max_length=20, verbose_name='金额依据')),
                ('leaf_outcomes', models.CharField(max_length=200, verbose_name='各条件结果')),
                ('benefit_version', models.PositiveIntegerField(verbose_name='扶持项目版本')),
                ('engine_version', models.CharField(max_length=20, verbose_name='引擎版本')),
                ('as_of', models.DateField(verbose_name='评估日期')),
                ('evaluated_at', models.DateTimeField(verbose_name='评估时间')),
            ],
            options={
                'verbose_name': '匹配结果',
                'verbose_name_plural': '匹配结果',
                'db_table': 'matching_outofscoperesult',
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='OutOfScope',
            fields=[
                ('enterprise', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='out_of_scope', serialize=False, to='enterprises.enterprise', verbose_name='企业')),
                ('benefits', models.JSONField(default=dict, verbose_name='不适用的扶持项目')),
                ('engine_version', models.CharField(max_length=20, verbose_name='引擎版本')),
                ('as_of', models.DateField(verbose_name='评估日期')),
                ('evaluated_at', models.DateTimeField(verbose_name='评估时间')),
            ],
            options={
                'verbose_name': '不适用的政策',
                'verbose_name_plural': '不适用的政策',
            },
        ),
        migrations.RunPython(create_view, drop_view),
    ]
