import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from enterprises import services
from enterprises.models import Enterprise, FactValue, Project, Recognition, YearlyFigure
from enterprises.selectors import enterprise_for_user
from enterprises.tests.factories import EnterpriseFactory, UserFactory
from enterprises.validators import credit_code_for

pytestmark = pytest.mark.django_db


def test_create_validates_credit_code_and_tracks(fact_catalog):
    with pytest.raises(ValidationError) as error:
        services.create_enterprise(data={"name": "甲", "credit_code": credit_code_for(7)[:17] + "0"})
    assert "校验位" in str(error.value.message_dict["credit_code"])
    with pytest.raises(ValidationError) as error:
        services.create_enterprise(
            data={"name": "乙", "credit_code": credit_code_for(8), "industry_tracks": ["space_mining"]}
        )
    assert "space_mining" in str(error.value.message_dict["industry_tracks"])
    assert not Enterprise.objects.exists()
    created = services.create_enterprise(
        data={
            "name": "丙",
            "credit_code": credit_code_for(9),
            "industry_tracks": ["biomedicine", "biomedicine"],
        }
    )
    assert created.industry_tracks == ["biomedicine"] and created.version == 1


def test_duplicate_credit_code_is_rejected(fact_catalog):
    services.create_enterprise(data={"name": "甲", "credit_code": credit_code_for(10)})
    with pytest.raises(ValidationError) as error:
        services.create_enterprise(data={"name": "乙", "credit_code": credit_code_for(10)})
    assert "credit_code" in error.value.message_dict


def test_update_with_stale_version_writes_nothing(fact_catalog):
    editor = UserFactory()
    enterprise = EnterpriseFactory(name="原名称")
    updated = services.update_enterprise(
        enterprise_id=enterprise.pk,
        expected_version=1,
        changes={"name": "新名称", "scale": "medium"},
        actor=editor,
    )
    assert updated.version == 2
    with pytest.raises(services.StaleEditError) as error:
        services.update_enterprise(
            enterprise_id=enterprise.pk, expected_version=1, changes={"name": "他人的修改"}
        )
    assert "刷新" in error.value.message
    enterprise.refresh_from_db()
    assert (enterprise.name, enterprise.version) == ("新名称", 2)
    last = enterprise.history.first()
    assert last.history_user == editor and last.name == "新名称"
    assert last.prev_record.name == "原名称"


def test_double_submission_of_the_same_edit_is_a_no_op(fact_catalog):
    enterprise = EnterpriseFactory()
    changes = {"registered_on": "2018-05-04", "above_scale": True}
    services.update_enterprise(enterprise_id=enterprise.pk, expected_version=1, changes=changes)
    again = services.update_enterprise(enterprise_id=enterprise.pk, expected_version=1, changes=changes)
    assert again.version == 2 and again.registered_on == datetime.date(2018, 5, 4)
    assert enterprise.history.count() == 2  # created + one change


def test_invalid_update_is_rolled_back(fact_catalog):
    enterprise = EnterpriseFactory()
    with pytest.raises(ValidationError) as error:
        services.update_enterprise(
            enterprise_id=enterprise.pk,
            expected_version=1,
            changes={"name": "X", "registered_on": datetime.date(2999, 1, 1)},
        )
    assert "今天" in str(error.value.message_dict["registered_on"])
    enterprise.refresh_from_db()
    assert enterprise.version == 1 and enterprise.name != "X"


def test_unknown_field_is_a_programming_error(fact_catalog):
    enterprise = EnterpriseFactory()
    with pytest.raises(ValueError):
        services.update_enterprise(enterprise_id=enterprise.pk, expected_version=1, changes={"version": 9})


def test_yearly_figures_upsert_and_reject_negative_and_future(fact_catalog):
    enterprise = EnterpriseFactory()
    services.save_yearly_figure(
        enterprise_id=enterprise.pk, year=2024, values={"output_value": Decimal("5e7")}
    )
    services.save_yearly_figure(
        enterprise_id=enterprise.pk, year=2024, values={"employees": 40}, expected_version=2
    )
    figure = YearlyFigure.objects.get(enterprise=enterprise, year=2024)
    assert (figure.output_value, figure.employees) == (Decimal("5e7"), 40)
    with pytest.raises(ValidationError) as error:
        services.save_yearly_figure(enterprise_id=enterprise.pk, year=2024, values={"revenue": Decimal("-1")})
    assert "负数" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.save_yearly_figure(enterprise_id=enterprise.pk, year=2999, values={})
    assert "年份" in str(error.value)
    with pytest.raises(services.StaleEditError):
        services.save_yearly_figure(enterprise_id=enterprise.pk, year=2023, values={}, expected_version=1)
    assert YearlyFigure.objects.filter(enterprise=enterprise).count() == 1


def test_recognitions_come_from_the_catalog_and_cannot_repeat(fact_catalog):
    enterprise = EnterpriseFactory()
    with pytest.raises(ValidationError) as error:
        services.add_recognition(enterprise_id=enterprise.pk, kind="nobel_prize", year=2024)
    assert "未知的认定类型" in str(error.value)
    services.add_recognition(
        enterprise_id=enterprise.pk, kind="little_giant", year=2024, values={"level": "national"}
    )
    with pytest.raises(ValidationError):
        services.add_recognition(enterprise_id=enterprise.pk, kind="little_giant", year=2024)
    assert Recognition.objects.filter(enterprise=enterprise).count() == 1


def test_double_submitted_project_is_refused_by_the_version(fact_catalog):
    enterprise = EnterpriseFactory()
    values = {"area_m2": Decimal("5200"), "rent_total": Decimal("3000000")}
    services.add_project(
        enterprise_id=enterprise.pk, kind="factory_lease", year=2025, values=values, expected_version=1
    )
    with pytest.raises(services.StaleEditError):
        services.add_project(
            enterprise_id=enterprise.pk, kind="factory_lease", year=2025, values=values, expected_version=1
        )
    assert Project.objects.filter(enterprise=enterprise).count() == 1


def test_project_validation(fact_catalog):
    enterprise = EnterpriseFactory()
    with pytest.raises(ValidationError) as error:
        services.add_project(
            enterprise_id=enterprise.pk, kind="factory_lease", year=2025, values={"area_m2": Decimal("-5")}
        )
    assert "负数" in str(error.value.message_dict["area_m2"])
    with pytest.raises(ValidationError) as error:
        services.add_project(enterprise_id=enterprise.pk, kind="tech_upgrade", year=2025)
    assert "市级或区级" in str(error.value.message_dict["level"])


def test_fact_values_are_typed_validated_and_removable(fact_catalog):
    enterprise = EnterpriseFactory()
    row = services.set_fact_value(
        enterprise_id=enterprise.pk,
        code="eda_tool_purchase_amount",
        value="1,200,000",
        year=2024,
        source="staff",
    )
    assert row.value == "1200000" and row.source == "staff"
    with pytest.raises(ValidationError) as error:
        services.set_fact_value(
            enterprise_id=enterprise.pk, code="eda_tool_purchase_amount", value="很多", year=2024
        )
    assert "应为数值" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.set_fact_value(
            enterprise_id=enterprise.pk, code="ic_verification_service_for", value="moon_landing"
        )
    assert "moon_landing" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.set_fact_value(enterprise_id=enterprise.pk, code="no_such_fact", value=True)
    assert "未知的事实" in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.set_fact_value(enterprise_id=enterprise.pk, code="output_value", value="1")
    assert "系统根据企业数据计算" in str(error.value)
    services.set_fact_value(enterprise_id=enterprise.pk, code="is_park_developer", value="是")
    assert FactValue.objects.get(fact__code="is_park_developer").value is True
    services.set_fact_value(enterprise_id=enterprise.pk, code="eda_tool_purchase_amount", value="", year=2024)
    assert not FactValue.objects.filter(fact__code="eda_tool_purchase_amount").exists()


def test_link_user_and_enterprise_for_user(fact_catalog):
    user = UserFactory()
    first, second = EnterpriseFactory(), EnterpriseFactory()
    assert enterprise_for_user(user) is None
    services.link_user(user=user, enterprise_id=first.pk)
    assert enterprise_for_user(user) == first
    services.link_user(user=user, enterprise_id=second.pk)  # one enterprise per user
    assert enterprise_for_user(user) == second
