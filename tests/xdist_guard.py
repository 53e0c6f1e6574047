"""A pytest plugin of the suite's parallel pass (scripts/run_tests.sh), loaded by conftest.py."""

from collections import Counter

import pytest


def pytest_xdist_node_collection_finished(node, ids):
    """pytest-xdist merges the reports of items that share a node id into one: the others would pass
    unseen. The parallel pass refuses them (mark such a module serial: scripts/run_tests.sh)."""
    shared = sorted(nodeid for nodeid, count in Counter(ids).items() if count > 1)
    if shared:
        pytest.exit(
            f"tests sharing a node id cannot run in parallel (mark them serial): {shared}", returncode=4
        )
