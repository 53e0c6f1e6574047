import datetime

import factory

from policies.models import Benefit, Clause, FactDefinition, Heading, PolicyDocument


class FactDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FactDefinition
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test_fact_{n}")
    type = FactDefinition.Type.MONEY
    unit = "元"
    label_zh = factory.Sequence(lambda n: f"测试事实{n}")
    label_en = factory.Sequence(lambda n: f"Test fact {n}")
    derived = FactDefinition.Derivation.STORED


class PolicyDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyDocument

    key = factory.Sequence(lambda n: f"test-doc-{n}")
    title = factory.Sequence(lambda n: f"测试政策{n}")
    issuer = "测试区人民政府"
    level = PolicyDocument.Level.DISTRICT
    source_file = "made_up.txt"
    effective_from = datetime.date(2024, 1, 1)
    status = PolicyDocument.Status.IN_FORCE


class HeadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heading

    document = factory.SubFactory(PolicyDocumentFactory)
    number = factory.Sequence(lambda n: f"H{n}")
    title = "测试章节"
    order = factory.Sequence(lambda n: n + 1)


class ClauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clause

    document = factory.SubFactory(PolicyDocumentFactory)
    number = factory.Sequence(lambda n: str(n + 1))
    order = factory.Sequence(lambda n: n + 1)
    kind = Clause.Kind.SUBSIDY
    title = "测试条款"
    text = "对新租赁自用工业厂房且租赁面积超过5000平方米（含）以上的，经认定，给予上限1000万元的补贴。"


class BenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Benefit

    clause = factory.SubFactory(ClauseFactory)
    key = factory.Sequence(lambda n: f"benefit-{n}")
    name = "测试补贴"
    kind = Benefit.Kind.LUMP_SUM
    cap = 10_000_000
    requires_recognition = True
    recognition_phrase = "经认定"
    amount_quote = "给予上限1000万元的补贴"
