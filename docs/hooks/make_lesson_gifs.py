"""Draw the lessons' GIFs of the documentation (docs/lessons/NAME.gif): small on purpose.

    python docs/hooks/make_lesson_gifs.py

Each is the lesson's race through ``optviz render`` (the command a reader would type), 576×288
pixels, 40 frames at 10 per second: enough to see what the lesson's note says, light in the repo.
"""

from __future__ import annotations

import sys
from pathlib import Path

from optviz.cli import main
from optviz.scene import lessons

OUT = Path(__file__).resolve().parents[1] / "lessons"


def make(names: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    for name in names:
        gif = OUT / f"{name}.gif"
        code = main(["render", "--lesson", name, "--out", str(gif), "--size", "7.2x3.6", "--dpi", "80",
                     "--max-frames", "40", "--fps", "10", "-q"])
        if code != 0:
            raise SystemExit(code)
        for extra in OUT.glob(f"{name}-errors.*"):  # a lesson's render also writes its error chart
            extra.unlink()
        print(gif, f"{gif.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    make(sys.argv[1:] or list(lessons.ALL_LESSONS))
