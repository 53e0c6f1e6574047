"""The lock files: every install takes exact, hashed versions that satisfy pyproject.toml."""

import re
import shutil
import subprocess
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def read_lock(name: str) -> dict[str, tuple[str, list[str]]]:
    """{package: (version, [hashes])} of requirements/<name>."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            pins[current] = (match[2], [])
        elif current and "--hash=sha256:" in line:
            pins[current][1].append(line.split("--hash=sha256:")[1].split()[0])
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize(("lock", "groups"), [("runtime.txt", ["runtime"]), ("dev.txt", ["runtime", "dev"])])
def test_every_dependency_is_pinned_with_hashes_within_its_range(lock, groups):
    pins = read_lock(lock)
    wanted = []
    if "runtime" in groups:
        wanted += project()["dependencies"]
    if "dev" in groups:
        wanted += project()["optional-dependencies"]["dev"]
    stale = []
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in pins or not requirement.specifier.contains(pins[name][0], prereleases=True):
            stale.append(f"{requirement} (lock: {pins.get(name, ('missing',))[0]})")
    assert not stale, f"requirements/{lock} is stale, run `make lock`: {stale}"
    assert all(hashes for _, hashes in pins.values()), "every pin carries its hashes"


def test_runtime_and_dev_locks_pin_the_same_versions():
    runtime, dev = read_lock("runtime.txt"), read_lock("dev.txt")
    assert runtime, "the runtime lock pins packages"
    different = {
        name: (v, dev.get(name, (None,))[0])
        for name, (v, _) in runtime.items()
        if dev.get(name, (None,))[0] != v
    }
    assert not different


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_install_reinstalls_when_the_lock_changes_and_only_from_the_lock():
    # -W: "pretend the lock was just modified"; -n: print the commands without running them.
    dry = subprocess.run(
        ["make", "-n", "-W", "requirements/dev.txt", "install"], cwd=ROOT, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    installs = [line for line in dry.stdout.splitlines() if "pip install" in line]
    assert installs, dry.stdout
    assert all("--require-hashes" in line and "-r requirements/dev.txt" in line for line in installs)


def test_the_image_installs_the_runtime_lock():
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")  # one line per instruction
    commands = [part for line in dockerfile.splitlines() for part in line.split("&&")]
    pip = [command for command in commands if " pip " in f" {command} " or "/pip " in command]
    assert pip, "the image installs with pip"
    assert all("--require-hashes" in command and "-r requirements/runtime.txt" in command for command in pip)
