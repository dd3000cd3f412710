"""Make the README's pictures of the dashboard, on purpose (the test suite never writes them).

Starts the real server and Chromium (as the browser tests do, ``tests/dashboard_driver.py``) and
writes, in ``docs/`` (or ``--out``):

- ``screenshot.png``: the first page (the default field on Himmelblau), 1600×1000;
- ``screenshot-projector.png``: the lesson "Momentum in a narrow valley" in projector mode at
  1280×720 (what a lecture hall sees);
- ``screenshot-1d.png``: the article's demo, a lane per optimizer under the curve, mid-race.

    python scripts/make_screenshots.py [--out docs]

Look at them before committing: a picture of a grey placeholder proves nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import dashboard_driver as driver


def lesson(page, title: str) -> None:
    page.get_by_role("button", name=title).click()
    page.wait_for_timeout(500)
    driver.wait_idle(page)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=driver.ROOT / "docs")
    args = ap.parse_args()
    if not driver.chromium_available():
        print(f"{driver.CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with driver.serve() as url, driver.browser() as b:
        page = driver.open_page(b, url, 1600, 1000)
        driver.wait_idle(page)
        page.wait_for_timeout(800)
        page.screenshot(path=str(args.out / "screenshot.png"))

        page = driver.open_page(b, url, 1280, 720)
        driver.wait_idle(page)
        lesson(page, "Momentum in a narrow valley")
        page.get_by_text("Projector mode (large text)").click()
        page.wait_for_function("() => window.__optvizRace.data.large === true")
        driver.wait_idle(page)
        page.wait_for_timeout(800)
        page.screenshot(path=str(args.out / "screenshot-projector.png"))

        page = driver.open_page(b, url, 1600, 1000)
        driver.wait_idle(page)
        lesson(page, "The article's quartic")
        step = page.get_by_role("slider", name="step of the race")
        step.focus()
        page.keyboard.press("Home")
        for _ in range(12):
            page.keyboard.press("ArrowRight")
        page.wait_for_timeout(800)
        page.screenshot(path=str(args.out / "screenshot-1d.png"))
    for name in ("screenshot.png", "screenshot-projector.png", "screenshot-1d.png"):
        print(args.out / name, f"{(args.out / name).stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
