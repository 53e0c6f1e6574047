"""The suite's parallel pass (scripts/run_tests.sh, --dist loadfile): pytest-xdist runs one of the
items that share a node id and reports the run as passed, so the guard (tests/xdist_guard.py) stops
such a run instead."""

import pytest

from tests.support import ROOT

TWINS = """
import pytest


class Twin(pytest.Item):
    def runtest(self):
        pass


class Twins(pytest.File):
    def collect(self):  # two items of one name, as schemathesis makes one per API operation
        yield Twin.from_parent(self, name="twin")
        yield Twin.from_parent(self, name="twin")


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".twins":
        return Twins.from_parent(parent, path=file_path)
"""


# as scripts/run_tests.sh runs the parallel pass; without the suite's own plugins
PLAIN = ("-p", "no:django", "-p", "no:cacheprovider")
PARALLEL = (*PLAIN, "-n", "2", "--dist", "loadfile")
GUARD = ("-p", "tests.xdist_guard")


@pytest.fixture
def twins(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # tests.xdist_guard
    pytester.makeconftest(TWINS)
    pytester.makefile(".twins", pair="")
    return pytester


def test_without_the_guard_xdist_runs_one_of_two_items_of_one_node_id(twins):
    result = twins.runpytest_subprocess(*PARALLEL)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*2 workers [[]2 items[]]*", "*= 1 passed*"])


def test_the_guard_stops_the_parallel_run_and_names_the_items(twins):
    result = twins.runpytest_subprocess(*PARALLEL, *GUARD)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 4
    assert "tests sharing a node id cannot run in parallel" in output and "pair.twins::twin" in output


def test_without_xdist_the_guard_lets_both_items_run(twins):
    result = twins.runpytest_subprocess(*PLAIN, *GUARD)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*= 2 passed*"])
