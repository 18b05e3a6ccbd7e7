"""The project's set-up files agree with each other.

- ``environment.yml`` (conda-forge) lists the same packages with the same version floors
  as ``pyproject.toml`` (runtime dependencies plus the ``dev`` extra).
- ``.ci/run`` is executable and ends in ``make test``; the README shows both commands.
- ``voila.json`` keeps the hardened dashboard defaults, and every trait it sets exists
  in the installed Voila (traitlets ignores unknown names silently).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

# PyPI name -> conda-forge name, only where the two differ.
PYPI_TO_CONDA = {
    "duckdb": "python-duckdb",
    "playwright": "playwright-python",
}
# Conda entries with no PyPI counterpart in pyproject's dependency lists.
CONDA_ONLY = {"pip"}

_CONDA_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def normalise(name: str) -> str:
    """Lower-case, ``_``/``.`` -> ``-``, extras dropped (``psycopg[binary]`` -> ``psycopg``)."""
    name = name.split("[", 1)[0].strip().lower()
    return re.sub(r"[-_.]+", "-", name)


def _floor(specifier: str) -> Version | None:
    match = re.search(r">=\s*([0-9][0-9A-Za-z.]*)", specifier)
    return Version(match.group(1)) if match else None


def pyproject_floors() -> dict[str, Version | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    requirements += project["optional-dependencies"]["dev"]
    floors: dict[str, Version | None] = {}
    for text in requirements:
        req = Requirement(text)
        name = normalise(req.name)
        floors[PYPI_TO_CONDA.get(name, name)] = _floor(str(req.specifier))
    floors["python"] = _floor(project["requires-python"])
    return floors


def conda_environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def conda_floors() -> dict[str, Version | None]:
    floors: dict[str, Version | None] = {}
    for entry in conda_environment()["dependencies"]:
        if isinstance(entry, dict):  # the `pip:` section
            continue
        match = _CONDA_SPEC.match(entry)
        assert match, f"cannot parse conda spec {entry!r}"
        name, spec = normalise(match.group(1)), match.group(2)
        if name not in CONDA_ONLY:
            floors[name] = _floor(spec)
    return floors


def test_environment_yml_lists_the_same_packages_as_pyproject():
    pypi, conda = set(pyproject_floors()), set(conda_floors())
    assert pypi == conda, (
        "environment.yml and pyproject.toml list different packages:\n"
        f"  only in pyproject.toml: {sorted(pypi - conda)}\n"
        f"  only in environment.yml: {sorted(conda - pypi)}\n"
        "(conda-forge names: see PYPI_TO_CONDA in this file)"
    )


def test_environment_yml_has_the_same_version_floors_as_pyproject():
    pypi, conda = pyproject_floors(), conda_floors()
    differences = {
        name: (str(pypi[name]), str(conda[name]))
        for name in sorted(set(pypi) & set(conda))
        if pypi[name] != conda[name]
    }
    assert not differences, (
        "version floors differ (pyproject.toml, environment.yml):\n"
        + "\n".join(f"  {name}: {p} vs {c}" for name, (p, c) in differences.items())
    )


# Known advisories of the dashboard server's stack and the first versions without them.
ADVISORY_FLOORS = {
    "voila": ("0.5.6", "CVE-2024-30265, path traversal through the template static handler"),
    "jupyter-server": ("2.21.0", "GHSA-fcw5-x6j4-ccmp (fixed 2.20.0), GHSA-c3mw-737p-c7g2"),
}


@pytest.mark.parametrize("name", sorted(ADVISORY_FLOORS))
def test_version_floors_exclude_known_advisories(name):
    from importlib.metadata import version

    fixed, advisory = ADVISORY_FLOORS[name]
    floor = pyproject_floors().get(name)
    assert floor is not None and floor >= Version(fixed), f"{name} floor must exclude {advisory}"
    assert Version(version(name)) >= Version(fixed), f"installed {name} has {advisory}"


def test_environment_yml_uses_conda_forge_and_installs_the_project_with_pip():
    env = conda_environment()
    assert "conda-forge" in env["channels"]
    pip_sections = [e["pip"] for e in env["dependencies"] if isinstance(e, dict) and "pip" in e]
    assert pip_sections == [["-e .[dev]"]]


def test_ci_script_is_executable_and_runs_make_test():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK), ".ci/run must be executable"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in text
    assert re.search(r"^make test\s*$", text, re.MULTILINE), ".ci/run must call `make test`"
    assert "playwright install" not in text, "browser tests use Debian's chromium"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make dashboards" in readme
    assert "make test" in readme


# --- voila.json --------------------------------------------------------------------


def voila_config() -> dict:
    return json.loads((ROOT / "voila.json").read_text())


def test_voila_config_has_the_hardened_defaults():
    cfg = voila_config()
    assert cfg["Voila"]["ip"] == "127.0.0.1"
    voila = cfg["VoilaConfiguration"]
    assert voila["strip_sources"] is True
    assert voila["show_tracebacks"] is False
    assert voila["preheat_kernel"] is True
    assert cfg["VoilaKernelManager"]["kernel_pools_config"]["default"]["pool_size"] >= 1
    assert cfg["MappingKernelManager"]["cull_idle_timeout"] > 0
    assert cfg["VoilaExecutor"]["timeout"] > 0


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("logo.png", True),
        ("img/chart.svg", True),
        ("assets/app.css", True),
        ("01_ar_dashboard.ipynb", False),
        ("helpers.py", False),
        ("../data/samples/invoices.csv", False),
        ("secrets.yaml", False),
        (".hidden/logo.png", False),
        ("img/.logo.png", False),
    ],
)
def test_voila_file_allowlist_serves_only_static_assets(path, served):
    # Same rule as voila.static_file_handler.AllowListFileHandler.
    voila = voila_config()["VoilaConfiguration"]
    allowed = any(re.fullmatch(p, path, re.IGNORECASE) for p in voila["file_allowlist"])
    denied = any(re.fullmatch(p, path, re.IGNORECASE) for p in voila["file_denylist"])
    assert (allowed and not denied) is served


def test_voila_config_names_only_traits_that_exist():
    pytest.importorskip("voila")
    from jupyter_server.services.kernels.kernelmanager import (
        AsyncMappingKernelManager,
        MappingKernelManager,
    )
    from voila.app import Voila
    from voila.configuration import VoilaConfiguration
    from voila.execute import VoilaExecutor
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    from rpmkit.server import CappedKernelManager

    pooled = voila_kernel_manager_factory(AsyncMappingKernelManager, True, 1)
    assert pooled.__name__ == "VoilaKernelManager"
    classes = {
        "Voila": Voila,
        "VoilaConfiguration": VoilaConfiguration,
        "VoilaExecutor": VoilaExecutor,
        "VoilaKernelManager": pooled,
        "MappingKernelManager": MappingKernelManager,
        "CappedKernelManager": CappedKernelManager,
    }
    cfg = voila_config()
    assert set(cfg) <= set(classes), f"unknown config sections: {set(cfg) - set(classes)}"
    for section, values in cfg.items():
        configurable = set(classes[section].class_trait_names(config=True))
        unknown = set(values) - configurable
        assert not unknown, f"{section} has no configurable traits {sorted(unknown)}"
