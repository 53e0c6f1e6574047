"""The commands as setup_portal runs them: `load_policies` with no arguments, on PostgreSQL and on SQLite."""

import io
import subprocess

import pytest
from django.core.management import call_command

from policies.fidelity import seeds_dir
from policies.loader import default_paths
from tests.support import PYTHON, ROOT, embedded_env


def test_load_policies_without_arguments_then_check_fidelity(db):
    out = io.StringIO()
    call_command("load_policies", stdout=out, stderr=out)
    assert f"{len(default_paths())} file(s) loaded" in out.getvalue()
    out = io.StringIO()
    call_command("check_fidelity", stdout=out)  # raises CommandError on any problem
    # one "ok" line per fixture document (the seeds and the corpus texts encoded so far)
    documents = [path for path in default_paths() if path.parent.name == "policies"]
    assert out.getvalue().count("clauses, ok") == len(documents) >= len(list(seeds_dir().glob("*.txt")))


@pytest.mark.slow
def test_load_policies_without_arguments_on_sqlite_twice(tmp_path):
    env = embedded_env(DATABASE_URL=f"sqlite:///{tmp_path / 'policies.sqlite3'}")

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)  # fmt: skip

    assert manage("migrate", "-v0").returncode == 0
    first = manage("load_policies")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "clauses: 24 created" in first.stdout  # policy 000
    second = manage("load_policies")
    assert second.returncode == 0, second.stderr
    counts = [line for line in second.stdout.splitlines() if "created," in line]
    assert counts and all(" 0 created, 0 updated," in line and " 0 removed" in line for line in counts), (
        counts
    )
