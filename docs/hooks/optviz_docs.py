"""MkDocs hooks of optviz's documentation site (``mkdocs.yml``: ``hooks:``).

- ``on_config``: every ``docs/*.md`` page the ``nav`` does not list is appended under "More" (pages
  other parts of the project add appear without an edit here).
- ``on_files``: the speed results (``benchmarks/*.md``) and the changelog become pages of the site,
  read from where they live (nothing copied into ``docs/``).
- ``on_page_markdown``: links from a page up into the repository (``../benchmarks/x.md``) go to
  that file's page on the site, or become its path as code; and generated parts, each at a
  marker line in a page:
  ``<!-- optviz:cli -->`` the command line reference, from the parser itself;
  ``<!-- optviz:optimizers -->`` every optimizer, from the registry (summary, hyperparameters, the
  docstring's formula, fixes and reference);
  ``<!-- optviz:lessons -->`` every lesson, from ``optviz.scene.lessons``;
  ``<!-- optviz:functions -->`` the test functions, from ``functions``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Pages made from files outside docs/: site path -> source file.
EXTERNAL = {"changelog.md": ROOT / "CHANGELOG.md"}


def _external() -> dict[str, Path]:
    out = dict(EXTERNAL)
    for p in sorted((ROOT / "benchmarks").glob("*.md")):
        out[f"speed/{p.name}"] = p
    return out


# ---------------------------------------------------------------------- nav
def _listed(nav: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(nav, str):
        out.add(nav)
    elif isinstance(nav, list):
        for item in nav:
            out |= _listed(item)
    elif isinstance(nav, dict):
        for v in nav.values():
            out |= _listed(v)
    return out


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


def on_config(config: Any) -> Any:
    nav = config.get("nav")
    if nav is None:
        return config
    listed = _listed(nav)
    extra = [{_title(p): p.name} for p in sorted(DOCS.glob("*.md")) if p.name not in listed]
    if extra:
        nav.append({"More": extra})
    results = [{_title(src): uri} for uri, src in _external().items() if uri.startswith("speed/")]
    for i, item in enumerate(nav):  # the speed page and, under it, every benchmark's results
        if isinstance(item, dict) and list(item.values()) == ["speed.md"]:
            nav[i] = {next(iter(item)): [{"Summary": "speed.md"}, *results]}
    return config


# ---------------------------------------------------------------------- pages from elsewhere
def _rewrite_benchmark_links(text: str) -> str:
    # links between benchmark pages stay; links to scripts or data go to plain text
    return re.sub(r"\[([^\]]+)\]\((?!https?:)([^)#]+\.(?:py|json|sh))\)", r"`\2`", text)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for uri, src in _external().items():
        text = src.read_text(encoding="utf-8")
        if uri.startswith("speed/"):
            text = _rewrite_benchmark_links(text)
        files.append(File.generated(config, uri, content=text))
    return files


# ---------------------------------------------------------------------- generated parts
def _cli_reference() -> str:
    from optviz.cli import parser as cli_parser

    top = cli_parser.build_parser()
    out = ["```text", top.format_help().rstrip(), "```", ""]
    subs = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subs.choices.items():
        out += [f"### optviz {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def _rst_to_md(doc: str) -> str:
    """The house's docstrings (reST roles and ``.. math::`` blocks) as Markdown with MathJax."""
    lines = doc.strip("\n").splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == ".. math::":
            indent = None
            body = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or indent is None or
                                      len(lines[i]) - len(lines[i].lstrip()) >= indent):
                if lines[i].strip():
                    indent = indent if indent is not None else len(lines[i]) - len(lines[i].lstrip())
                    body.append(lines[i].strip())
                elif body:
                    break
                i += 1
            out += ["", "\\[", "\\begin{gathered}", *body, "\\end{gathered}", "\\]", ""]
            continue
        out.append(line.strip())
        i += 1
    text = "\n".join(out)
    text = re.sub(r":math:`([^`]+)`", r"\\(\1\\)", text)
    text = re.sub(r":(?:func|class|mod|meth|attr|data):`~?([^`]+)`", r"`\1`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    return text


def _optimizers() -> str:
    from optviz.optimizers import REGISTRY

    out = []
    for name, spec in REGISTRY.items():
        head = f"*{spec.summary}* Family `{spec.family}`; reference: {spec.reference}."
        out += [f"### {name}", "", head, "",
                "| hyperparameter | default | range | scale | what |", "| --- | --- | --- | --- | --- |"]
        for hp in spec.hyperparams:
            scale = "log" if hp.log else "integer" if hp.integer else "linear"
            what = hp.help + (" (learning rate)" if hp.lr else "")
            out.append(f"| `{hp.name}` | {hp.default:g} | [{hp.low:g}, {hp.high:g}] | {scale} | {what} |")
        out += ["", _rst_to_md(spec.doc or ""), ""]
    return "\n".join(out)


def _lessons() -> str:
    from optviz.scene import lessons

    out = []
    for name, lesson in lessons.ALL_LESSONS.items():
        s = lesson.scene
        fn = s.function.name or "a typed function"
        gif = DOCS / "lessons" / f"{name}.gif"
        out += [f"### {lesson.title}", ""]
        if gif.exists():
            out += [f"![{lesson.title}: the race]({'lessons/' + gif.name})", ""]
        out += [lesson.note, "",
                f"`{name}`: {fn}, {', '.join(s.optimizers)}; {len(s.starts.points)} start(s), {s.steps} steps"
                + (" (a tab of its own: " + lesson.view + ")" if lesson.view != "race" else "") + ".", "",
                "```bash", f"optviz render --lesson {name} --out {name}.html", "```", ""]
    return "\n".join(out)


def _functions() -> str:
    import functions

    out = ["| name | dimension | box | global minimizers | f* |", "| --- | --- | --- | --- | --- |"]
    for name in functions.names():
        try:
            f = functions.get(name)
        except Exception:  # a family that needs parameters or a dimension: its defaults
            continue
        box = ", ".join(f"[{lo:g}, {hi:g}]" for lo, hi in f.box)
        listed = [] if f.minimizers is None else list(f.minimizers)
        mins = "; ".join("(" + ", ".join(f"{float(v):.4g}" for v in m) + ")" for m in listed[:4])
        if len(listed) > 4:
            mins += " …"
        fmin = "—" if f.fmin is None else f"{f.fmin:g}"
        out.append(f"| `{name}` | {f.dim} | {box} | {mins or '—'} | {fmin} |")
    return "\n".join(out)


GENERATED = {"cli": _cli_reference, "optimizers": _optimizers, "lessons": _lessons, "functions": _functions}


def _repo_link(m: re.Match) -> str:
    """A link from a docs page to a file of the repository (``../benchmarks/results-cpu.md``): to
    its page on the site where it has one (the speed results, the changelog), else its path as code."""
    text, path, anchor = m.group(1), m.group(2), m.group(3) or ""
    if path.startswith("benchmarks/") and path.endswith(".md") and f"speed/{path[11:]}" in _external():
        return f"[{text}](speed/{path[11:]}{anchor})"
    if path == "CHANGELOG.md":
        return f"[{text}](changelog.md{anchor})"
    return text if text.strip("`") == path else f"{text} (`{path}`)"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    def fill(m: re.Match) -> str:
        return GENERATED[m.group(1)]()

    markdown = re.sub(r"^<!-- optviz:(\w+) -->$", fill, markdown, flags=re.M)
    if "/" not in page.file.src_uri:  # a page of docs/ itself: links up into the repository
        markdown = re.sub(r"\[([^\]]+)\]\(\.\./([^)#\s]+)(#[^)\s]*)?\)", _repo_link, markdown)
    return markdown
