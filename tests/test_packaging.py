"""Packaging: ``pip install .`` and ``pip install -e .`` give a working ``optviz`` command anywhere.

The project is installed into fresh virtual environments under ``tmp_path``, offline and
quickly: ``--no-deps --no-build-isolation`` with the running interpreter's site-packages
(numpy, Streamlit, ... and the build backend) made visible through a ``.pth`` line. The
source is copied first, so that the build's own files (``build/``, ``*.egg-info``) never land
in the working tree. Every command then runs from a folder outside the repository, without
``PYTHONPATH``: only the installed package can answer.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: Data files other parts add under optviz/: one per pattern the package data must catch.
DATA_PROBES = ("dashboard/static/probe.css", "dashboard/static/probe.js", "views/probe.html",
               "scenes/probe.json", "probe.toml")

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------- helpers
def _copy_source(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "requirements.txt",
                 "requirements-dev.txt"):
        shutil.copy2(ROOT / name, dest / name)
    for pkg in ("optviz", "functions"):
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=ignore)
    for probe in DATA_PROBES:
        (dest / "optviz" / probe).parent.mkdir(parents=True, exist_ok=True)
        (dest / "optviz" / probe).write_text("/* probe */\n")
    return dest


def _venv(where: Path) -> Path:
    """A fresh venv (no pip of its own) that sees this interpreter's site-packages after its own."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    shared = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_shared_site.pth").write_text("\n".join(sorted(shared)) + "\n")
    return python


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["MPLCONFIGDIR"] = env.get("MPLCONFIGDIR", "/tmp/matplotlib-optviz-test")
    return env


def _pip_install(python: Path, *args: str, cwd: Path) -> None:
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "--no-index", *args],
                          capture_output=True, text=True, timeout=300, env=_env(), cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _optviz(python: Path, *args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    exe = python.parent / ("optviz.exe" if os.name == "nt" else "optviz")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=_env())


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a venv where ``pip install -r requirements.txt`` (that is, ``pip install .``) ran
    in the source folder, as the README and the Dockerfile do; a folder outside the repository)."""
    base = tmp_path_factory.mktemp("pkg")
    src = _copy_source(base / "src")
    python = _venv(base / "venv")
    _pip_install(python, "-r", "requirements.txt", cwd=src)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return python, elsewhere


# ---------------------------------------------------------------------- pip install .
def test_installed_package_is_the_one_imported(installed):
    python, elsewhere = installed
    out = subprocess.run(
        [str(python), "-c", "import optviz, functions, optviz.dashboard as d; "
                            "print(optviz.__file__); print(functions.__file__); print(d.SCRIPT)"],
        cwd=elsewhere, capture_output=True, text=True, env=_env(), timeout=120, check=True,
    ).stdout.split()
    venv = python.parent.parent
    assert all(Path(p).is_relative_to(venv) for p in out), out
    assert Path(out[2]).is_file() and Path(out[2]).name == "app.py"
    for probe in DATA_PROBES:
        assert (Path(out[0]).parent / probe).is_file(), f"package data {probe} not installed"


def test_packaged_dashboard_script_runs(installed):
    """The script ``optviz dashboard`` serves runs on the installed package (the health check
    alone would pass even if the page failed to import optviz)."""
    python, elsewhere = installed
    code = ("from streamlit.testing.v1 import AppTest; from optviz.dashboard import SCRIPT; "
            "at = AppTest.from_file(str(SCRIPT), default_timeout=120).run(); "
            "assert not at.exception, at.exception; assert not at.error, [e.value for e in at.error]; "
            "print(len([e for e in at.get('bidi_component') if e.proto.component_name == 'optviz_race']))")
    proc = subprocess.run([str(python), "-c", code], cwd=elsewhere, capture_output=True, text=True,
                          env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.split()[-1]) == 1  # the race (with its error chart) was drawn


def test_help_list_and_run_from_any_folder(installed):
    python, elsewhere = installed
    proc = _optviz(python, "--help", cwd=elsewhere)
    assert proc.returncode == 0 and "dashboard" in proc.stdout and "render" in proc.stdout
    proc = _optviz(python, "list", cwd=elsewhere)
    assert proc.returncode == 0 and "rosenbrock" in proc.stdout and "group:adam" in proc.stdout
    proc = _optviz(python, "run", "-f", "booth", "-o", "Adam,NAG", "--grid", "2", "--steps", "50", "--json",
                   cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["function"] == "booth" and {r["optimizer"] for r in doc["results"]} == {"Adam", "NAG"}
    proc = subprocess.run([str(python), "-m", "optviz", "list", "presets"], cwd=elsewhere,
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0 and "article-quartic" in proc.stdout
    proc = _optviz(python, "run", "-o", "Adamm", cwd=elsewhere)
    assert proc.returncode == 2 and proc.stderr.startswith("optviz: error: unknown optimizer 'Adamm'")
    assert list(elsewhere.iterdir()) == []


def test_render_preset_from_any_folder(installed):
    import imageio_ffmpeg

    python, elsewhere = installed
    out = elsewhere / "render"
    out.mkdir()
    proc = _optviz(python, "render", "--preset", "article-quartic", "--out", "race.mp4", cwd=out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["race.mp4", "race-errors.png"]
    assert sorted(p.name for p in out.iterdir()) == ["race-errors.png", "race.mp4"]
    assert imageio_ffmpeg.count_frames_and_secs(str(out / "race.mp4"))[0] == 101


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


@pytest.mark.skipif(os.name != "posix", reason="stops the server with SIGTERM")
def test_dashboard_serves_the_packaged_app_and_stops_on_sigterm(installed):
    python, elsewhere = installed
    port = _free_port()
    exe = python.parent / "optviz"
    proc = subprocess.Popen([str(exe), "dashboard", "--host", "127.0.0.1", "--port", str(port), "--headless"],
                            cwd=elsewhere, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=_env())
    try:
        deadline = time.monotonic() + 90
        while not _health(port):
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the dashboard never became healthy"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
        children = _children(proc.pid)
        assert children, "optviz dashboard should run Streamlit as its child"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, out[-3000:]
    assert "Traceback" not in out
    assert all(_state(c) in ("Z", "gone") for c in children), "Streamlit left running"
    assert not _health(port)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            rest = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


# ---------------------------------------------------------------------- pip install -e .
def test_editable_install_runs_the_source(tmp_path):
    """``pip install -r requirements-dev.txt`` (that is, ``pip install -e .[dev]``), as CI does."""
    src = _copy_source(tmp_path / "src")
    python = _venv(tmp_path / "venv")
    _pip_install(python, "-r", "requirements-dev.txt", cwd=src)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _optviz(python, "list", "groups", cwd=elsewhere)
    assert proc.returncode == 0 and "group:santa" in proc.stdout, proc.stderr
    where = subprocess.run([str(python), "-c", "import optviz; print(optviz.__file__)"], cwd=elsewhere,
                           capture_output=True, text=True, env=_env(), timeout=120, check=True).stdout
    assert Path(where.strip()).resolve() == (src / "optviz" / "__init__.py").resolve()


# ---------------------------------------------------------------------- python -m build
def test_build_gives_a_wheel_and_an_sdist_that_install_and_run(tmp_path):
    """``python -m build`` (offline: ``--no-isolation``, the backend from this environment) makes an
    sdist and, from it, a wheel, which installs into a fresh venv and answers ``optviz --help``, with
    the licence and the one version (``optviz.__version__``, read by pyproject.toml) in its metadata."""
    pytest.importorskip("build", reason="the 'build' package is not installed (dev extra)")
    import tarfile
    import zipfile

    src = _copy_source(tmp_path / "src")
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(src)],
                          capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    version = re.search(r'^__version__ = "([^"]+)"$', (ROOT / "optviz" / "__init__.py").read_text(),
                        flags=re.M).group(1)
    wheel = dist / f"optviz-{version}-py3-none-any.whl"
    sdist = dist / f"optviz-{version}.tar.gz"
    assert sorted(p.name for p in dist.iterdir()) == sorted([wheel.name, sdist.name])
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(f"optviz-{version}.dist-info/METADATA").decode()
    assert f"optviz-{version}.dist-info/licenses/LICENSE" in names
    assert "optviz/live/assets/race.js" in names and "optviz/live/assets/hosts/page.js" in names
    assert "License-Expression: BSD-3-Clause" in meta and f"Version: {version}" in meta
    with tarfile.open(sdist) as t:
        members = {m.split("/", 1)[1] for m in t.getnames() if "/" in m}
    assert {"LICENSE", "README.md", "pyproject.toml", "optviz/__init__.py"} <= members
    # the wheel was built from the sdist (what build does): installing it checks both
    python = _venv(tmp_path / "venv")
    _pip_install(python, str(wheel), cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _optviz(python, "--help", cwd=elsewhere)
    assert proc.returncode == 0 and "render" in proc.stdout, proc.stderr
    code = ("import importlib.metadata as m, optviz; "
            "print(optviz.__version__, m.version('optviz'), m.metadata('optviz')['License-Expression'])")
    out = subprocess.run([str(python), "-c", code], cwd=elsewhere, capture_output=True, text=True, env=_env(),
                         timeout=120, check=True)
    assert out.stdout.split() == [version, version, "BSD-3-Clause"]


def test_version_and_licence_are_declared_once():
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "optviz.__version__"}
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    import optviz

    assert f"## {optviz.__version__} (" in (ROOT / "CHANGELOG.md").read_text()


# ---------------------------------------------------------------------- one list of dependencies
def _requirement_lines(name: str) -> list[str]:
    return [ln.strip() for ln in (ROOT / name).read_text().splitlines()
            if ln.strip() and not ln.strip().startswith("#")]


@pytest.mark.parametrize(("name", "line"), [("requirements.txt", "."), ("requirements-dev.txt", "-e .[dev]")])
def test_requirements_files_install_the_package(name, line):
    assert _requirement_lines(name) == [line]


def _dist(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_third_party_import_is_a_declared_dependency():
    """What optviz/ and functions/ import is in [project] dependencies (or an extra, for the
    optional backends): a new import cannot be forgotten in pyproject.toml."""
    project = PYPROJECT["project"]
    runtime = {_dist(r) for r in project["dependencies"]}
    optional = {_dist(r) for extra, reqs in project["optional-dependencies"].items() if extra != "dev"
                for r in reqs}  # an optional feature's import is declared in its extra (gpu, notebook, ...)
    optional |= {"cupy"}  # cupy-cuda12x provides the module cupy
    modules: set[str] = set()
    for path in [*ROOT.glob("optviz/**/*.py"), *ROOT.glob("functions/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"optviz", "functions", "__future__"}
    providers = md.packages_distributions()
    missing = []
    for mod in sorted(third_party):
        dists = {d.lower().replace("_", "-") for d in providers.get(mod, [mod])}
        if not dists & (runtime | optional):
            missing.append(f"{mod} (from {', '.join(sorted(dists))})")
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    assert {"numba", "sympy", "streamlit", "numpy"} <= runtime


def test_the_command_and_packages_are_declared():
    assert PYPROJECT["project"]["scripts"] == {"optviz": "optviz.cli:main"}
    assert PYPROJECT["build-system"]["build-backend"] == "setuptools.build_meta"
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert {"optviz", "optviz.*", "functions", "functions.*"} <= set(find["include"])


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    test_cmd = next(b for b in blocks if "python -m pytest" in b)
    assert "pip install -q -r requirements-dev.txt" in test_cmd
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith("#")]
    assert test_cmd in ci
    start_cmd = next(b for b in blocks if "optviz dashboard" in b)
    assert "pip install -r requirements.txt" in start_cmd


def test_dockerfile_installs_like_the_readme_and_runs_the_dashboard_command():
    """No Docker daemon here: check what the image would run (the same commands the tests above run)."""
    from optviz import cli

    docker = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^RUN pip install --no-cache-dir -r requirements\.txt$", docker, flags=re.M)
    copied = re.findall(r"^COPY (.+) \S+$", docker, flags=re.M)
    assert {"pyproject.toml", "README.md", "requirements.txt"} <= set(" ".join(copied).split())
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", docker, flags=re.M).group(1))
    assert cmd[:2] == ["optviz", "dashboard"]
    args = cli.build_parser().parse_args(cmd[1:])
    assert (args.host, args.port, args.headless) == ("0.0.0.0", 8501, True)
