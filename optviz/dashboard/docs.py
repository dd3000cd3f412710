"""An optimizer's docstring (reStructuredText) as Markdown with KaTeX, for the sidebar and the views."""

from __future__ import annotations

import re
import textwrap


def doc_markdown(doc: str) -> str:
    """A rule's docstring (reStructuredText) as Markdown with KaTeX."""
    head, _, body = doc.partition("\n")
    lines = textwrap.dedent(body).splitlines()
    out: list[str] = [head.strip(), ""]
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith(".. math::"):
            block = [line.split("::", 1)[1].strip()]
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i].strip())
                i += 1
            tex = " ".join(b for b in block if b)
            if "\\\\" in tex:
                tex = r"\begin{gathered}" + tex + r"\end{gathered}"
            out += ["", f"$$\n{tex}\n$$", ""]
            continue
        out.append(line)
        i += 1
    md = re.sub(r":math:`([^`]*)`", r"$\1$", "\n".join(out))
    return md.replace("``", "`")

