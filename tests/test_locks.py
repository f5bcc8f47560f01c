"""The generated project's locks: one universal lock per install kind, resolvable from wheels on
every platform and Python version the project claims, and a runtime lock without dev tools.

The resolution is uv's dry run against the package index (metadata only, nothing is installed):
the real question a user's `pip install` answers, asked for platforms this machine is not.
"""

import re
import subprocess
import sys
import tomllib

import pytest

from conftest import TEMPLATE_DIR, bake

pytestmark = pytest.mark.slow
PLATFORMS = {
    "Linux x86_64": "x86_64-manylinux_2_28",
    "Linux aarch64": "aarch64-manylinux_2_28",
    "macOS arm64": "aarch64-apple-darwin",
    "Windows x86_64": "x86_64-pc-windows-msvc",
}
# The only packages allowed to come as a source distribution: pure Python, no compiler needed.
PURE_PYTHON_SDISTS = {"antlr4-python3-runtime"}
DEV_ONLY = {"moto", "pytest", "check-jsonschema", "ruff", "uv", "python-gitlab", "flask", "werkzeug"}


def pinned(lock):
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, re.M)}


@pytest.fixture(scope="module")
def project(cookies_session):
    return bake(cookies_session, init_git="no", sample_data="no").project_path


def claimed_pythons(project):
    """Every minor version that requires-python admits, e.g. ">=3.11,<3.15" -> 3.11 ... 3.14."""
    spec = tomllib.loads((project / "pyproject.toml").read_text())["project"]["requires-python"]
    low, high = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", spec).groups()
    return [f"3.{minor}" for minor in range(int(low), int(high))]


def resolve_from_wheels(lock_file, platform, python, offline=False):
    names = set(pinned(lock_file.read_text())) - PURE_PYTHON_SDISTS
    binary_only = [arg for name in sorted(names) for arg in ("--only-binary", name)]
    return subprocess.run(
        [sys.executable, "-m", "uv", "pip", "compile", str(lock_file), "--python-platform", platform,
         "--python-version", python, "--quiet", *binary_only, *(["--offline"] if offline else []),
         # Without it, uv tries to download each other Python (for building sdists), waits on the
         # failure and falls back to this one: 10 s a version, and a download from outside the index.
         "--no-python-downloads"],
        capture_output=True, text=True, cwd=lock_file.parent)  # the resolution goes to stdout, no file is written


def test_the_claims_agree(project):
    pythons = claimed_pythons(project)
    assert pythons[0] == "3.11"
    for readme in (TEMPLATE_DIR / "README.md", project / "README.md"):
        assert f"Python {pythons[0]} to {pythons[-1]}" in readme.read_text(), readme


def test_the_runtime_and_serving_locks_have_no_dev_or_ci_tools_and_the_dev_lock_has_the_same_pins(project):
    runtime = pinned((project / "requirements.txt").read_text())
    serving = pinned((project / "requirements-serve.txt").read_text())  # what the container image installs
    dev = pinned((project / "requirements-dev.txt").read_text())
    assert not DEV_ONLY & set(runtime) and not DEV_ONLY & set(serving)
    assert DEV_ONLY <= set(dev)
    assert set(runtime) < set(serving) and {"fastapi", "uvicorn"} <= set(serving) - set(runtime)
    for lock in (runtime, serving):
        assert {name: version for name, version in dev.items() if name in lock} == lock


@pytest.fixture(scope="module")
def dev_lock_resolutions(project):
    """{(platform, Python): uv's result} for every claimed pair. The first asks the package index;
    the others read the index pages it has just cached (uv --offline: a tenth of a second each),
    and ask the index again only when something they need is not cached (another platform's wheel
    metadata), so a failure is always the index's answer."""
    lock = project / "requirements-dev.txt"
    (first_platform, first_python), *others = [(platform, python) for platform in PLATFORMS
                                               for python in claimed_pythons(project)]
    from concurrent.futures import ThreadPoolExecutor

    results = {(first_platform, first_python): resolve_from_wheels(lock, PLATFORMS[first_platform], first_python)}
    results |= {(platform, python): resolve_from_wheels(lock, PLATFORMS[platform], python, offline=True)
                for platform, python in others}
    again = [pair for pair, result in results.items() if result.returncode != 0]
    with ThreadPoolExecutor(max(len(again), 1)) as pool:  # each mostly waits on the index
        results |= zip(again, pool.map(lambda pair: resolve_from_wheels(lock, PLATFORMS[pair[0]], pair[1]), again),
                       strict=True)
    return results


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_dev_lock_installs_from_wheels_on_every_claimed_python(project, dev_lock_resolutions, platform):
    for python in claimed_pythons(project):
        result = dev_lock_resolutions[platform, python]
        assert result.returncode == 0, f"{platform}, Python {python}:\n{result.stderr}"


def test_the_check_catches_a_package_without_wheels_for_the_platform(tmp_path):
    """The CPU-only XGBoost has no macOS wheels: a lock that asked for it there must fail."""
    lock = tmp_path / "requirements.txt"
    lock.write_text("xgboost-cpu==3.2.0\n")
    result = resolve_from_wheels(lock, PLATFORMS["macOS arm64"], "3.11")
    assert result.returncode != 0 and "xgboost-cpu" in result.stderr
