"""The documentation: the README and the site (``mkdocs.yml``, ``docs/``).

- The site builds with every warning an error (``mkdocs build --strict``: broken links and
  anchors, pages missing from the nav, griffe's docstring warnings).
- Every Python example in the README and the site runs (each page's blocks in order, in one
  fresh interpreter, in an empty folder).
- Every ``optviz`` command in their ``bash`` blocks parses; those that race are run by
  ``tests/test_cli.py`` (README and the command line page: and must converge) or here (the other
  pages: as the run of the same scene, since a render's options only shape its pictures).
- The README stays short and copy-pasteable.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from optviz import cli
from optviz.cli import parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Pages whose racing commands tests/test_cli.py runs (and holds to converging).
RUN_BY_TEST_CLI = ("README.md", "cli.md")


def _blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)\n```", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def _commands(path: Path) -> list[str]:
    out = []
    for block in _blocks(path, "bash"):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("optviz "):
                out.append(re.split(r"\s+#", line)[0].strip())
    return out


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (dev extra)")
    pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (dev extra)")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    site = tmp_path / "site"
    cli_page = (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "optviz render" in cli_page and "--max-frames" in cli_page  # the parser's reference
    optimizers = (site / "optimizers" / "index.html").read_text(encoding="utf-8")
    assert "Kingma &amp; Ba" in optimizers and "arithmatex" in optimizers  # the registry's docstrings
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="optviz.run"' in api and 'id="optviz.scene.model.Scene"' in api
    assert (site / "speed" / "results-cpu" / "index.html").is_file()  # benchmarks/results-cpu.md
    assert (site / "changelog" / "index.html").is_file()
    for page in (ROOT / "docs").glob("*.md"):  # every page, listed in the nav or not, is built
        assert (site / page.stem / "index.html").is_file() or page.stem == "index", page.name


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "python")], ids=lambda p: p.name)
def test_every_python_example_runs(page, tmp_path):
    code = "\n\n".join(_blocks(page, "python"))
    missing = sorted(m for m in _imported(code) if importlib.util.find_spec(m) is None)
    if missing:  # e.g. the adapters' examples need torch and optax, which CI does not install
        pytest.skip(f"{page.name}: its examples need {', '.join(missing)}")
    script = tmp_path / f"example_{page.stem.replace('-', '_')}.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("MPLBACKEND", "Agg")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, f"{page.name}:\n{proc.stderr[-3000:]}"


def _imported(code: str) -> set[str]:
    """The top-level modules a piece of code imports."""
    out = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_every_command_parses_and_the_others_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    build = cli.build_parser()
    seen = 0
    for page in PAGES:
        for line in _commands(page):
            argv = parser.fix_negative(shlex.split(line)[1:])
            try:
                args = build.parse_args(argv)
            except SystemExit as exc:
                pytest.fail(f"{page.name}: {line!r} does not parse ({exc.code}): {capsys.readouterr().err}")
            seen += 1
            if page.name in RUN_BY_TEST_CLI or args.command not in ("run", "render", "list"):
                continue
            if args.command == "render":  # the run of the same scene
                argv = ["run", *_scene_options(argv[1:])]
            code = cli.main([*argv, "-q"] if argv[0] != "list" else argv)
            assert code == 0, f"{page.name}: {line!r}: {capsys.readouterr().err}"
    assert seen >= 20


def _scene_options(argv: list[str]) -> list[str]:
    picture = {"--out": 1, "--fps": 1, "--max-frames": 1, "--stride": 1, "--dpi": 1, "--size": 1,
               "--resolution": 1, "--title": 1, "--no-error-panel": 0}
    out, it = [], iter(argv)
    for a in it:
        if a in picture:
            for _ in range(picture[a]):
                next(it)
        else:
            out.append(a)
    return out


def test_the_readme_is_short_and_copy_pasteable():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for page in PAGES:
        for block in _blocks(page, "bash"):
            assert "[--" not in block, f"{page.name}: an optional-flag bracket inside a copy-paste block"
        outs = [m for line in _commands(page) for m in re.findall(r"--out (\S+)", line)]
        assert len(outs) == len(set(outs)), f"{page.name}: two examples write the same file: {outs}"
    # the README's links into the docs lead to pages that exist
    for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", text):
        assert (ROOT / target).is_file(), target
    assert re.search(r"^!\[[^\]]+\]\(docs/screenshot\.png\)$", text, flags=re.M)


def test_every_docs_page_is_in_the_site(tmp_path):
    """Pages other parts add to docs/ join the nav without an edit to mkdocs.yml (the hook)."""
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (dev extra)")
    import importlib.util

    from mkdocs.config import load_config

    spec = importlib.util.spec_from_file_location("optviz_docs", ROOT / "docs" / "hooks" / "optviz_docs.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    config = hooks.on_config(load_config(str(ROOT / "mkdocs.yml")))
    listed = hooks._listed(config["nav"])
    assert {p.name for p in (ROOT / "docs").glob("*.md")} <= listed
