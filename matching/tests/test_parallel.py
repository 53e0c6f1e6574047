"""A bulk run split over forked worker processes stores exactly what one process stores."""

import datetime as dt

import pytest

from enterprises.generator import generate
from matching import services
from matching.models import JobRun, MatchResult
from matching.tests.conftest import forget_results
from policies.loader import default_paths, load_files

FIELDS = (
    "enterprise_id",
    "benefit_id",
    "status",
    "score",
    "amount",
    "amount_basis",
    "leaf_outcomes",
    "fingerprint",
)


@pytest.mark.django_db(transaction=True)  # the workers see only committed rows
def test_two_jobs_store_what_one_job_stores():
    _, errors = load_files(default_paths())
    assert not errors
    generate(90, seed=17, reference_year=2025, batch_size=50)
    as_of = dt.date(2025, 6, 1)

    alone = services.evaluate_benefits(as_of=as_of, chunk_size=16, jobs=1)
    stored_alone = set(MatchResult.objects.values_list(*FIELDS))
    forget_results()
    progress: list[int] = []
    together = services.evaluate_benefits(as_of=as_of, chunk_size=16, jobs=2, progress=progress.append)

    assert set(MatchResult.objects.values_list(*FIELDS)) == stored_alone
    assert (together.evaluated, together.written) == (alone.evaluated, alone.written) != (0, 0)
    assert sum(progress) == 90 and len(progress) == 6  # one report per chunk of 16
    assert list(JobRun.objects.filter(kind="match").values_list("status", "items", "total")) == [
        ("succeeded", 90, 90),
        ("succeeded", 90, 90),
    ]
