"""The bulk import (profile_files.apply_import → profile_batches.save_profiles) against the row-by-row services it
replaced: the same data stored, the same row errors, history and version only for what changed, the
same re-evaluation marks, all or nothing, and a number of queries that does not grow with the rows."""

import copy
import csv
import datetime
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enterprises import profile_batches, profile_files, services
from enterprises.models import Enterprise, EnterpriseChange, FactValue, Project, Source, YearlyFigure
from enterprises.tests.factories import EnterpriseFactory, ProjectFactory, UserFactory, YearlyFigureFactory
from enterprises.validators import credit_code_for

pytestmark = pytest.mark.django_db
MARKS_TABLE = EnterpriseChange._meta.db_table  # the change records (enterprises/changes.py)
HEADER = [
    "统一社会信用代码", "企业名称", "所在区", "街镇", "成立日期", "重点产业领域", "企业规模", "上市交易所",
    "上市日期", "数据年度", "工业总产值（元）", "从业人员（人）", "新购置自用厂房面积（平方米）",
    "新租赁自用厂房面积（平方米）", "行业组织或产业联盟 [is_industry_association]", "实缴资本 [paid_in_capital]",
    "企业类别与业务活动 [business_activities]",
]  # fmt: skip


def csv_bytes(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def row(serial, name="", **cells):
    """A file row: every column blank but the credit code (and name), then `cells` by column index."""
    values = [credit_code_for(serial), name, *[""] * (len(HEADER) - 2)]
    for index, value in cells.items():
        values[int(index.removeprefix("c"))] = value
    return values


def full_row(serial: int) -> list:
    """A new enterprise with data in every table the import writes."""
    return row(
        serial,
        f"上海批量导入{serial}号有限公司",
        c2="闵行区", c3="莘庄镇", c4="2015-03-01", c5="高端装备;生物医药", c6="小型", c9="2025",
        c10=f"{1000 + serial}", c11="12", c13="800", c14="否", c15="5000000", c16="services",
    )  # fmt: skip


def write_row_by_row(content: bytes, *, actor, source: str = Source.REGISTER) -> None:
    """The import as it was written before save_profiles: each row through the single-row services."""
    preview = profile_files.preview_import(content, "x.csv")
    assert preview.ok, [r.errors for r in preview.rows]
    for result in preview.rows:
        existing = Enterprise.objects.filter(credit_code=result.credit_code).first()
        data = {**result.enterprise, "source": source}
        if existing:
            enterprise = services.update_enterprise(
                enterprise_id=existing.pk, expected_version=existing.version, changes=data, actor=actor
            )
        else:
            enterprise = services.create_enterprise(data=data, actor=actor)
        if result.year is not None and result.figures:
            services.save_yearly_figure(
                enterprise_id=enterprise.pk,
                year=result.year,
                values={**result.figures, "source": source},
                actor=actor,
            )
        for kind, area in result.areas.items():
            services.add_project(
                enterprise_id=enterprise.pk,
                kind=kind,
                year=result.year,
                values={"area_m2": area, "source": source, "title": "导入"},
                external_ref=f"import:{kind}:{result.year}",
                actor=actor,
            )
        for code, value in result.facts.items():
            services.set_fact_value(
                enterprise_id=enterprise.pk,
                code=code,
                value=value,
                year=result.year,
                source=source,
                actor=actor,
            )


def snapshot() -> dict:
    """Everything an import may write, by credit code, without ids, versions and times."""
    skip = {"id", "enterprise", "enterprise_id", "version", "created_at", "updated_at"}

    def values(instance):
        return {
            f.attname: getattr(instance, f.attname)
            for f in instance._meta.concrete_fields
            if f.attname not in skip
        }

    state = {}
    for enterprise in Enterprise.objects.all():
        state[enterprise.credit_code] = {
            "enterprise": values(enterprise),
            "figures": {f.year: values(f) for f in enterprise.figures.all()},
            "projects": sorted(
                (p.external_ref, sorted(values(p).items())) for p in enterprise.projects.all()
            ),
            "facts": {(v.fact_id, v.year): values(v) for v in enterprise.fact_values.all()},
        }
    return state


def pending_changes():
    return EnterpriseChange.objects


def marks() -> set[tuple[str, str]]:
    codes = dict(Enterprise.objects.values_list("pk", "credit_code"))
    return {(codes[pk], source) for pk, source in pending_changes().values_list("enterprise_id", "source")}


def outcome(write) -> tuple[dict, set]:
    """What `write` leaves (data, marks), rolled back after."""
    savepoint = transaction.savepoint()
    try:
        pending_changes().all().delete()  # those of the set-up
        write()
        return snapshot(), marks()
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.fixture
def stored(fact_catalog):
    """Enterprises already in the database: one with the rows a previous import left, one bare."""
    register = Source.REGISTER
    first = EnterpriseFactory(
        credit_code=credit_code_for(9001), name="甲", listing_exchange="sse", source=register
    )
    YearlyFigureFactory(
        enterprise=first, year=2025, output_value=Decimal("7000"), revenue=Decimal("99"), source=register
    )
    ProjectFactory(
        enterprise=first,
        year=2025,
        external_ref="import:factory_lease:2025",
        title="导入",
        area_m2=Decimal("300"),
        source=register,
    )
    FactValue.objects.create(
        enterprise=first,
        fact=fact_catalog["paid_in_capital"],
        year=2025,
        value="100",
        note="旧备注",
        source=register,
    )
    second = EnterpriseFactory(credit_code=credit_code_for(9002), name="乙", source=register)
    return first, second


def test_the_bulk_import_stores_what_the_row_by_row_services_stored(stored, fact_catalog):
    content = csv_bytes(
        [
            HEADER,
            full_row(1),
            full_row(2),
            # stored: new scale, the figure's output (revenue kept), the lease area, a fact, a new one
            row(
                9001, c6="中型", c9="2025", c10="8000", c14="是", c15="200", c16="retail;services", c13="450"
            ),
            row(9002, c3="颛桥镇", c8="2020-01-01", c7="上海证券交易所"),  # listing: date with exchange
            row(9002 + 1, "上海最简企业有限公司"),
        ]
    )
    actor = UserFactory()
    before, before_marks = outcome(lambda: write_row_by_row(content, actor=actor))
    after, after_marks = outcome(lambda: profile_files.apply_import(content, "x.csv", actor=actor))
    assert after == before
    assert after[credit_code_for(9001)]["figures"][2025]["revenue"] == Decimal("99")  # blank: unchanged
    assert after[credit_code_for(9001)]["facts"][(fact_catalog["paid_in_capital"].pk, 2025)]["note"] == ""
    # new enterprises: the same marks (new + every table written); stored ones: those of what changed
    new_codes = {credit_code_for(1), credit_code_for(2), credit_code_for(9003)}
    assert {m for m in after_marks if m[0] in new_codes} == {m for m in before_marks if m[0] in new_codes}
    assert (credit_code_for(1), "new") in after_marks and (credit_code_for(1), "figures") in after_marks
    assert {m for m in after_marks if m[0] not in new_codes} == {
        (credit_code_for(9001), source)
        for source in [
            "enterprise", "figures", "projects",
            *(f"fact:{fact_catalog[c].pk}" for c in ("is_industry_association", "paid_in_capital", "business_activities")),
        ]
    } | {(credit_code_for(9002), "enterprise")}  # fmt: skip


def test_history_and_version_move_only_for_what_changed(stored, fact_catalog):
    first, second = stored
    actor = UserFactory()
    content = csv_bytes([HEADER, row(9001, c6="中型", c9="2025", c10="7000"), row(9002, c3=second.town)])
    versions = {e.pk: e.version for e in Enterprise.objects.all()}
    counts = {model: model.history.count() for model in (Enterprise, YearlyFigure, Project, FactValue)}
    profile_files.apply_import(content, "x.csv", actor=actor)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.version == versions[first.pk] + 1 and first.scale == "medium"
    assert second.version == versions[second.pk]  # its row changes nothing: not touched at all
    assert Enterprise.history.count() == counts[Enterprise] + 1
    latest = first.history.first()
    assert (latest.history_type, latest.history_user, latest.version, latest.scale) == (
        "~",
        actor,
        first.version,
        "medium",
    )
    # the figure was stored with the same output value: no history row for it
    assert YearlyFigure.history.count() == counts[YearlyFigure]

    # only a related row changes: version + 1, the row's history, none for the enterprise itself
    profile_files.apply_import(csv_bytes([HEADER, row(9002, c9="2025", c11="30")]), "y.csv", actor=actor)
    second.refresh_from_db()
    assert second.version == versions[second.pk] + 1
    assert Enterprise.history.count() == counts[Enterprise] + 1
    figure = YearlyFigure.history.filter(enterprise_id=second.pk).get()
    assert (figure.history_type, figure.history_user, figure.employees) == ("+", actor, 30)

    # the same file again: nothing written, versions kept
    history = {model: model.history.count() for model in (Enterprise, YearlyFigure, Project, FactValue)}
    versions = {e.pk: e.version for e in Enterprise.objects.all()}
    with CaptureQueriesContext(connection) as queries:
        profile_files.apply_import(csv_bytes([HEADER, row(9002, c9="2025", c11="30")]), "y.csv", actor=actor)
    assert {model: model.history.count() for model in history} == history
    assert {e.pk: e.version for e in Enterprise.objects.all()} == versions
    assert not [
        q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]


def test_a_stale_page_of_an_untouched_enterprise_stays_valid(stored):
    """An import that changes nothing of an enterprise does not move its version: whoever is editing it
    keeps their version; one that changes it does, and the stale edit is refused."""
    first, second = stored
    profile_files.apply_import(
        csv_bytes([HEADER, row(9001, c3=first.town), row(9002, c3="新镇")]), "x.csv", actor=None
    )
    services.update_enterprise(
        enterprise_id=first.pk, expected_version=first.version, changes={"town": "甲镇"}
    )
    with pytest.raises(services.StaleEditError):
        services.update_enterprise(
            enterprise_id=second.pk, expected_version=second.version, changes={"town": "乙镇"}
        )


def test_an_import_records_each_source_it_wrote_once_per_enterprise_without_saving_row_by_row(
    fact_catalog, monkeypatch
):
    saved_one_by_one = []
    monkeypatch.setattr(
        "django.db.models.Model.save", lambda self, *args, **kwargs: saved_one_by_one.append(self)
    )
    assert profile_files.apply_import(csv_bytes([HEADER, full_row(1), full_row(2)]), "x.csv", actor=None).ok
    by_source = Counter(
        source.split(":")[0] for source in EnterpriseChange.objects.values_list("source", flat=True)
    )
    # two new enterprises ("new"; their rows are recorded too), 3 stored facts each
    assert by_source == {"new": 2, "figures": 2, "projects": 2, "fact": 6}
    EnterpriseChange.objects.all().delete()
    changes = [HEADER, row(1, c9="2025", c10="5"), row(2, c3="莘庄镇")]
    assert profile_files.apply_import(csv_bytes(changes), "x.csv", actor=None).ok
    first = Enterprise.objects.get(credit_code=credit_code_for(1))
    assert list(EnterpriseChange.objects.values_list("enterprise_id", "source")) == [(first.pk, "figures")]
    assert saved_one_by_one == []  # no save() per row
    for model in (Enterprise, YearlyFigure, Project, FactValue):  # and no history row twice
        assert model.history.count() == model.objects.count() + (model is YearlyFigure)


def test_one_bad_row_among_many_writes_nothing(fact_catalog):
    rows = [full_row(serial) for serial in range(1, 31)]
    rows.append(row(31, "上海坏数据有限公司", c9="2025", c11="-3"))
    preview = profile_files.apply_import(csv_bytes([HEADER, *rows]), "x.csv", actor=None)
    assert not preview.ok and [r.line for r in preview.rows if r.errors] == [32]
    assert any(error.startswith("从业人员（人）：") and "负数" in error for error in preview.rows[-1].errors)
    assert not Enterprise.objects.exists() and not Enterprise.history.exists()


def test_a_failure_while_writing_leaves_nothing(fact_catalog, monkeypatch):
    real = profile_batches.save_profiles
    calls = []

    def fails_the_second_time(**kwargs):
        calls.append(len(kwargs["profiles"]))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(profile_files, "WRITE_BATCH", 4)
    monkeypatch.setattr(profile_batches, "save_profiles", fails_the_second_time)
    with pytest.raises(RuntimeError):
        profile_files.apply_import(
            csv_bytes([HEADER, *[full_row(n) for n in range(1, 11)]]), "x.csv", actor=None
        )
    assert calls == [4, 4]
    assert not Enterprise.objects.exists() and not YearlyFigure.history.exists()


def test_a_new_credit_code_taken_meanwhile_is_refused_by_save_profiles(fact_catalog):
    taken = EnterpriseFactory()
    profile = profile_batches.ProfileWrite(
        enterprise=Enterprise(), changes={"name": "后来者", "credit_code": taken.credit_code}
    )
    with pytest.raises(ValidationError) as error:
        profile_batches.save_profiles(profiles=[profile])
    assert "credit_code" in error.value.message_dict
    assert Enterprise.objects.count() == 1


@pytest.mark.parametrize("existing", [False, True], ids=["create", "update"])
def test_the_queries_of_an_import_do_not_grow_with_its_rows(fact_catalog, existing):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite caps the parameters of a statement: bulk inserts go in batches of ~40 rows")

    def queries_for(serials: range) -> tuple[int, int]:
        rows = [full_row(serial) for serial in serials]
        if existing:
            profile_files.apply_import(csv_bytes([HEADER, *rows]), "x.csv", actor=None)
            rows = [[*r[:3], "新镇", *r[4:10], "1", *r[11:]] for r in rows]  # town and output changed
        with CaptureQueriesContext(connection) as captured:
            assert profile_files.apply_import(csv_bytes([HEADER, *rows]), "x.csv", actor=None).ok
        sql = [query["sql"] for query in captured.captured_queries]
        marks = sum(MARKS_TABLE in statement for statement in sql)
        return len(sql) - marks, marks

    small, small_marks = queries_for(range(1, 6))
    large, large_marks = queries_for(range(100, 160))
    assert small == large, (small, large)
    assert small <= 30
    # the change records: one upsert per source a batch touches, whatever its rows (new: the
    # enterprise, three stored facts, a project, a figure; changed: the enterprise and a figure)
    assert small_marks == large_marks == (2 if existing else 6)


def test_preview_makes_no_query_per_row(fact_catalog):
    EnterpriseFactory(credit_code=credit_code_for(3))
    for rows in ([full_row(n) for n in range(1, 5)], [full_row(n) for n in range(1, 80)]):
        with CaptureQueriesContext(connection) as captured:
            preview = profile_files.preview_import(csv_bytes([HEADER, *rows]), "x.csv")
        assert preview.ok and preview.rows[2].action == "update"
        assert len(captured) <= 8, [q["sql"] for q in captured.captured_queries]


# ---------------------------------------------------------------- clean_enterprise == full_clean

TRACKS = ["high_end_equipment", "biomedicine", "new_gen_it", "太空采矿", ""]
SUBTRACKS = ["industrial_mother_machine", "synthetic_biology", "未知赛道"]


def _list_or_junk(items):
    return st.one_of(st.lists(st.sampled_from(items), max_size=3), st.just("not a list"), st.just([1, "a"]))


ENTERPRISE_VALUES = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["上海甲有限公司", "", "名" * 201]),
        "district": st.sampled_from(["闵行区", "", "火星区"]),
        "industry_code": st.sampled_from(["3511", "", "9911", "35a1", "3501"]),
        "industry_tracks": _list_or_junk(TRACKS),
        "industry_subtracks": _list_or_junk(SUBTRACKS),
        "scale": st.sampled_from(["small", "", "huge"]),
        "listing_exchange": st.sampled_from(["", "none", "sse", "moon"]),
        "registered_on": st.sampled_from([None, datetime.date(2015, 1, 1), datetime.date(2999, 1, 1)]),
        "listed_on": st.sampled_from([None, datetime.date(2014, 1, 1), datetime.date(2020, 1, 1)]),
        "above_scale_since": st.sampled_from([None, 1900, 2020, 2999]),
        "credit_code": st.sampled_from([credit_code_for(77), credit_code_for(77)[:17] + "X", ""]),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=ENTERPRISE_VALUES, exclude=st.sampled_from([(), ("credit_code",)]))
def test_clean_enterprise_is_full_clean_without_queries(fact_catalog, values, exclude):
    rules = profile_batches.CatalogRules.load()
    ours, django = Enterprise(**values), Enterprise(**copy.deepcopy(values))
    expected = actual = {}
    try:
        django.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        expected = error.message_dict
    with CaptureQueriesContext(connection) as queries:
        try:
            profile_batches.clean_enterprise(ours, rules=rules, exclude=exclude)
        except ValidationError as error:
            actual = error.message_dict
    assert actual == expected
    assert not queries.captured_queries
    assert (ours.industry_tracks, ours.industry_subtracks) == (
        django.industry_tracks,
        django.industry_subtracks,
    )


def test_clean_enterprise_without_a_catalog_is_full_clean_too(db):
    enterprise = Enterprise(name="甲", credit_code=credit_code_for(5), industry_tracks=["biomedicine"])
    rules = profile_batches.CatalogRules.load()
    assert rules.tracks is None
    with pytest.raises(ValidationError) as ours:
        profile_batches.clean_enterprise(copy.copy(enterprise), rules=rules)
    with pytest.raises(ValidationError) as django:
        enterprise.full_clean(validate_unique=False)
    assert ours.value.message_dict == django.value.message_dict
