import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from enterprises.models import Enterprise, EnterpriseMembership, Project, Recognition, YearlyFigure
from enterprises.validators import credit_code_for


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"上海测试制造有限公司{n}")
    credit_code = factory.Sequence(lambda n: credit_code_for(1_000_000 + n))
    district = "闵行区"
    town = "莘庄工业区"
    registered_on = datetime.date(2015, 3, 1)
    legal_form = Enterprise.LegalForm.LLC
    industry_code = "3511"
    scale = Enterprise.Scale.SMALL


class YearlyFigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = YearlyFigure

    enterprise = factory.SubFactory(EnterpriseFactory)
    year = 2024
    output_value = Decimal("50000000")


class RecognitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recognition

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = "sh_specialized_sme"
    level = "municipal"
    year = 2024


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = Project.Kind.FACTORY_LEASE
    year = 2024


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-2026")

    @factory.post_generation
    def finish(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy signature
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnterpriseMembership

    user = factory.SubFactory(UserFactory)
    enterprise = factory.SubFactory(EnterpriseFactory)


TEST_ITEM_KIND = "test_upgrade_project"


def make_item_kind() -> str:
    """An item kind with a money, a choice and a yes/no fact (the loader's job in production)."""
    from policies.models import FactDefinition, ItemKind

    ItemKind.objects.get_or_create(
        code=TEST_ITEM_KIND, defaults={"label_zh": "测试技改项目", "label_en": "Test upgrade project"}
    )
    facts = [
        ("test_upgrade_investment", "money", "元", "项目总投资", "Total investment", []),
        (
            "test_upgrade_level",
            "enum",
            "",
            "项目级别",
            "Project level",
            [
                {"value": "municipal", "label_zh": "市级", "label_en": "Municipal"},
                {"value": "district", "label_zh": "区级", "label_en": "District"},
            ],
        ),
        ("test_upgrade_done", "bool", "", "已竣工验收", "Accepted", []),
        ("test_upgrade_area", "decimal", "平方米", "改造面积", "Area", []),
    ]
    for code, kind, unit, label_zh, label_en, choices in facts:
        FactDefinition.objects.get_or_create(
            code=code,
            defaults={
                "type": kind,
                "unit": unit,
                "label_zh": label_zh,
                "label_en": label_en,
                "choices": choices,
                "item_kind": TEST_ITEM_KIND,
            },
        )
    return TEST_ITEM_KIND
