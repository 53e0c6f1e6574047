"""The COPY reader (enterprises/copy_read.py) gives what the cursor gives: its text splitting on
crafted output (escapes, NULLs, empty texts) and on awkward stored texts (whole fact tables read
both ways: matching/tests/test_copy_loader.py)."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection

from enterprises.copy_read import copy_columns, split_columns
from enterprises.models import Item
from enterprises.tests.factories import TEST_ITEM_KIND, EnterpriseFactory, make_item_kind


def test_cells_are_split_and_decoded_as_the_cursor_gives_them():
    raw = (
        "1\t上海\\t闵行\tt\t2024-02-29\t1234.50\n"
        "22\t\\N\tf\t\\N\t\\N\n"
        "-3\t\tt\t1999-12-31\t-0.01\n"
        "\\N\ta\\\\b\\nc\t\\N\t2024-02-29\t1234.50\n"
    ).encode()
    columns = split_columns(raw, ["int", "text", "bool", "date", "decimal"])
    assert columns == [
        [1, 22, -3, None],
        ["上海\t闵行", None, "", "a\\b\nc"],
        [True, False, True, None],
        [dt.date(2024, 2, 29), None, dt.date(1999, 12, 31), dt.date(2024, 2, 29)],
        [Decimal("1234.50"), None, Decimal("-0.01"), Decimal("1234.50")],
    ]
    assert split_columns(b"", ["int", "text"]) == [[], []]


def test_output_of_another_shape_is_refused():
    with pytest.raises(ValueError, match="unexpected COPY output"):
        split_columns(b"1\t2\n3\n", ["int", "int"])


postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")


@postgresql
@pytest.mark.django_db
def test_copy_columns_match_values_list_on_awkward_texts():
    make_item_kind()
    owner = EnterpriseFactory()
    for title in ["制表\t符", "换\n行", "反斜\\杠", "", "\\N", "末尾空格 "]:
        Item.objects.create(enterprise=owner, kind=TEST_ITEM_KIND, title=title, values={"a": title})
    rows = Item.objects.order_by("pk").values_list("pk", "enterprise_id", "title", "values", "source")
    by_cursor = [list(column) for column in zip(*rows, strict=True)]
    by_copy = copy_columns(rows)
    assert by_copy[:3] == by_cursor[:3] and by_copy[4] == by_cursor[4]
    assert [json.loads(text) for text in by_copy[3]] == by_cursor[3]  # JSON comes as its text
