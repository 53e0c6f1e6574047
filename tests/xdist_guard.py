"""A pytest plugin of the suite's parallel pass (scripts/run_tests.sh), loaded by conftest.py."""

from collections import Counter

import pytest


def pytest_xdist_node_collection_finished(node, ids):
    """Of items that share a node id, pytest-xdist (--dist loadfile) runs one and the run passes: the
    others would go unseen. The parallel pass refuses them (mark such a module serial)."""
    shared = sorted(nodeid for nodeid, count in Counter(ids).items() if count > 1)
    if shared:
        pytest.exit(
            f"tests sharing a node id cannot run in parallel (mark them serial): {shared}", returncode=4
        )
