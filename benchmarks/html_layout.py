"""Open a report's HTML in headless Chromium at desktop and phone widths, measure its layout, take screenshots.

    python benchmarks/html_layout.py OUT/general_clinic/report.html [--widths 1280 390] [--shots DIR]

What is measured, at each width (the review's complaint: tables run off the page, charts unreadable):

- the page never scrolls sideways: ``document.scrollWidth`` ≤ the viewport;
- every table and chart either fits the page or sits in a container that scrolls sideways by itself and
  ends inside the page;
- a table that scrolls keeps its first column in view (``position: sticky``) when scrolled;
- every chart is drawn at no less than `MIN_CHART_SCALE` of its natural size, where its smallest text is
  still about 9 px (or at its natural size, if the page is wider).

With ``--shots DIR`` it writes ``{width}-page.png`` (the whole page) and ``{width}-table-N.png`` /
``{width}-chart-N.png`` (each table and chart as the reader sees it in its container), to look at.

Chromium: ``PLAYBOOK_CHROMIUM`` if set, else ``chromium``, ``chromium-browser`` or ``google-chrome`` on the
PATH (Debian: ``apt-get install chromium``), driven by the ``playwright`` package (pip; its own browser
download is not needed). Exit 0 when the layout passes at every width, 1 when it does not.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from playbook.report import MIN_CHART_SCALE

WIDTHS = (1280, 390)
HEIGHT = {1280: 800, 390: 844}  # a laptop, an iPhone 14
# Flags for a closed network, as root, without a screen (see the machine notes of the playbook's CI).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Runs in the page: every table and chart with its box, its nearest sideways-scrolling ancestor, and
# whether the first column stays put when that ancestor is scrolled.
_MEASURE = r"""
() => {
  const vw = document.documentElement.clientWidth;
  const scroller = el => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const o = getComputedStyle(box).overflowX;
      if (o === 'auto' || o === 'scroll') return box;
    }
    return null;
  };
  const items = [];
  document.querySelectorAll('main table, main img').forEach((el, i) => {
    const r = el.getBoundingClientRect();
    const box = scroller(el);
    const b = box ? box.getBoundingClientRect() : null;
    const item = {kind: el.tagName === 'TABLE' ? 'table' : 'chart', index: i,
                  label: el.tagName === 'TABLE' ? (el.querySelector('th, td')?.textContent || '').trim().slice(0, 40)
                                                : (el.alt || '').slice(0, 60),
                  left: r.left, right: r.right, width: r.width,
                  box_left: b ? b.left : null, box_right: b ? b.right : null,
                  scrolls: box ? box.scrollWidth > box.clientWidth + 1 : false,
                  natural: el.naturalWidth || null, sticky_ok: null};
    if (item.kind === 'table' && item.scrolls) {
      const first = el.querySelector('tbody tr > :first-child');
      const before = box.scrollLeft;
      box.scrollLeft = 80;
      // sticky: the first cell stays at the container's left edge instead of leaving with the rest
      item.sticky_ok = first ? first.getBoundingClientRect().left >= b.left - 1 : false;
      box.scrollLeft = before;
    }
    items.push(item);
  });
  return {viewport: vw, page: document.documentElement.scrollWidth, items};
}
"""


@dataclass
class Layout:
    """What one width showed, and what is wrong with it (empty: nothing)."""

    width: int
    page_width: int
    items: list[dict]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        tables = [i for i in self.items if i["kind"] == "table"]
        charts = [i for i in self.items if i["kind"] == "chart"]
        scrolling = sum(i["scrolls"] for i in tables)
        scales = [i["width"] / i["natural"] for i in charts if i["natural"]]
        smallest = f", smallest chart scale {min(scales):.2f}" if scales else ""
        return (f"{self.width}px: page {self.page_width}px wide, {len(tables)} tables ({scrolling} scroll "
                f"sideways in their container), {len(charts)} charts{smallest}; "
                + ("ok" if self.ok else f"{len(self.problems)} problem(s)"))


def find_chromium() -> str | None:
    """The Chromium to drive, or None: ``PLAYBOOK_CHROMIUM``, else the first of the usual names on the PATH."""
    if os.environ.get("PLAYBOOK_CHROMIUM"):
        return os.environ["PLAYBOOK_CHROMIUM"]
    return next(filter(None, (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))), None)


def _problems(width: int, found: dict) -> list[str]:
    out = []
    if found["page"] > found["viewport"]:
        out.append(f"the page scrolls sideways: {found['page']}px wide in a {found['viewport']}px viewport")
    for item in found["items"]:
        name = f"{item['kind']} {item['index']} ({item['label']!r})"
        contained = item["box_right"] is not None and item["box_right"] <= found["viewport"] + 0.5 \
            and item["box_left"] >= -0.5
        if item["right"] > found["viewport"] + 0.5 and not contained:
            out.append(f"{name} runs off the page at {item['right']:.0f}px and no container scrolls it")
        if item["sticky_ok"] is False:
            out.append(f"{name} scrolls, but its first column scrolls away with it")
        if item["kind"] == "chart" and item["natural"]:
            floor = min(item["natural"], MIN_CHART_SCALE * item["natural"])
            if item["width"] < floor - 1:
                out.append(f"{name} is drawn {item['width']:.0f}px wide, {item['width'] / item['natural']:.0%} of its "
                           f"{item['natural']}px: its labels are too small to read")
    return out


def measure(html: Path, widths=WIDTHS, *, shots: Path | None = None, chromium: str | None = None) -> list[Layout]:
    """Open ``html`` at each width; return what each showed. Screenshots go to ``shots`` if given."""
    from playwright.sync_api import sync_playwright  # a test-time tool, not a dependency of the playbook

    executable = chromium or find_chromium()
    if executable is None:
        raise FileNotFoundError("no Chromium found: set PLAYBOOK_CHROMIUM or install chromium")
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    layouts = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for width in widths:
                page = browser.new_page(viewport={"width": width, "height": HEIGHT.get(width, 800)})
                page.goto(Path(html).resolve().as_uri(), wait_until="load")
                page.evaluate("document.fonts.ready")
                found = page.evaluate(_MEASURE)
                layouts.append(Layout(width, found["page"], found["items"], _problems(width, found)))
                if shots:
                    _screenshots(page, shots, width)
                page.close()
        finally:
            browser.close()
    return layouts


def _screenshots(page, shots: Path, width: int) -> None:
    page.screenshot(path=shots / f"{width}-page.png", full_page=True)
    for kind, selector in (("table", "main table"), ("chart", "main img")):
        for n, element in enumerate(page.query_selector_all(selector)):
            # the container as the reader sees it (a scrolling table is cut at its edge), else the element
            box = element.evaluate_handle(
                "el => el.closest('.jp-OutputArea-output') || el").as_element()
            box.scroll_into_view_if_needed()
            box.screenshot(path=shots / f"{width}-{kind}-{n:02d}.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    parser.add_argument("--shots", type=Path, help="folder for the screenshots")
    args = parser.parse_args(argv)
    layouts = measure(args.html, args.widths, shots=args.shots)
    for layout in layouts:
        print(layout.summary())
        for problem in layout.problems:
            print(f"  - {problem}")
    return 0 if all(layout.ok for layout in layouts) else 1


if __name__ == "__main__":
    sys.exit(main())
