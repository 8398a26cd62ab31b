"""Are `playbook.evaluate`'s intervals what they claim? Coverage, false alarms and power on simulated series.

Not a test: it simulates, runs the library call a chapter makes, and prints; it asserts nothing
(``tests/test_evaluate.py`` keeps a small version of it). The table of benchmarks/README.md comes
from ``--seeds 100``.

Each cell of the grid is a weekly KPI with PRE weeks before the intervention and ``--post`` weeks
after it: level 50, trend +0.05 a week, a yearly season (5·sin + 2·cos of the second harmonic), and
AR(1) noise with coefficient PHI made of a market part shared with the control (sd 3) and the KPI's
own part (sd 1.5). The control, when there is one, is SCALE × (40 + the same trend and season + the
shared market part + its own noise, sd 1.5): "same" is scale 1, "4x" is scale 4 (what a chain's
other branches together look like beside one branch). The intervention adds ``--effect`` (default 3,
about one noise sd) from its week on.

Per seed, two independent series: one without an effect (a significant result is a false alarm) and
one with it (coverage: the interval holds the true effect; power: the result is significant). The
first also says how often the checks call a correct model unreliable.

    python benchmarks/evaluate_calibration.py                 # 20 seeds a cell, ~1.5 minutes on 2 cores
    python benchmarks/evaluate_calibration.py --seeds 100     # the README's table, ~10 minutes
"""
from __future__ import annotations

import argparse
import itertools
import multiprocessing
import time

import numpy as np
import pandas as pd

PRE = (60, 104, 156)
PHI = (0.0, 0.5)
DESIGNS = {"none": None, "same": 1.0, "4x": 4.0}
WEEKS_PER_YEAR = 365.25 / 7
START = pd.Timestamp("2022-01-03")
SD_SHARED, SD_OWN, SD_CONTROL = 3.0, 1.5, 1.5


def simulate(rng: np.random.Generator, *, pre: int, post: int, phi: float, scale: float | None,
             effect: float) -> tuple[pd.DataFrame, pd.Timestamp]:
    """One weekly series (and its control), as a CSV export would hold them."""
    n = pre + post
    t = np.arange(n)

    def ar(sd: float) -> np.ndarray:  # stationary AR(1) with marginal sd
        shocks = rng.normal(0, sd * np.sqrt(1 - phi ** 2), n)
        x = np.empty(n)
        x[0] = rng.normal(0, sd)
        for i in range(1, n):
            x[i] = phi * x[i - 1] + shocks[i]
        return x

    season = 5 * np.sin(2 * np.pi * t / WEEKS_PER_YEAR) + 2 * np.cos(4 * np.pi * t / WEEKS_PER_YEAR)
    shared = ar(SD_SHARED)
    frame = pd.DataFrame({"week": pd.date_range(START, periods=n, freq="7D"),
                          "y": 50 + 0.05 * t + season + shared + ar(SD_OWN) + effect * (t >= pre)})
    if scale is not None:
        frame["control"] = scale * (40 + 0.05 * t + season + shared + ar(SD_CONTROL))
    return frame, frame["week"].iloc[pre]


def run_cell(args: tuple) -> dict:
    """One cell: coverage, false alarms, power and the share called unreliable, over the seeds."""
    from playbook.evaluate import evaluate

    design, pre, phi, seeds, post, effect = args
    scale = DESIGNS[design]
    rng = np.random.default_rng([pre, int(phi * 10), int(scale or 0), 2026])
    control = "control" if scale is not None else None
    covered = alarms = hits = unreliable = 0
    width = []
    for _ in range(seeds):
        null, start = simulate(rng, pre=pre, post=post, phi=phi, scale=scale, effect=0.0)
        result = evaluate(null, date="week", value="y", intervention=start, control=control)
        alarms += result.significant
        unreliable += not result.reliable
        real, start = simulate(rng, pre=pre, post=post, phi=phi, scale=scale, effect=effect)
        result = evaluate(real, date="week", value="y", intervention=start, control=control)
        covered += result.ci_low <= effect <= result.ci_high
        hits += result.significant
        width.append(result.ci_high - result.ci_low)
    return {"design": design, "pre": pre, "phi": phi, "seeds": seeds, "coverage": covered / seeds,
            "false_alarms": alarms / seeds, "power": hits / seeds, "unreliable": unreliable / seeds,
            "width": float(np.mean(width))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="series per cell and per arm (100 for the README)")
    parser.add_argument("--post", type=int, default=26, help="weeks after the intervention")
    parser.add_argument("--effect", type=float, default=3.0, help="the planted step")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    cells = [(design, pre, phi, args.seeds, args.post, args.effect)
             for design, pre, phi in itertools.product(DESIGNS, PRE, PHI)]
    tick = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        rows = pool.map(run_cell, cells, chunksize=1)
    table = pd.DataFrame(rows)
    print(f"{args.seeds} seeds a cell and arm, {args.post} weeks after, effect {args.effect:g}, 95% intervals, "
          f"{time.perf_counter() - tick:.0f} s\n")
    shown = table.assign(**{c: table[c].map(lambda v: f"{v:.0%}") for c in
                            ("coverage", "false_alarms", "power", "unreliable")}, width=table["width"].round(2))
    print(shown.to_string(index=False))
    print()
    groups = {"ITS (no control)": table["design"] == "none", "with a control": table["design"] != "none",
              "all": table["design"].notna()}
    for name, mask in groups.items():
        part = table[mask]
        print(f"pooled, {name:<17} coverage {part['coverage'].mean():.1%}, false alarms "
              f"{part['false_alarms'].mean():.1%}, power {part['power'].mean():.1%}, unreliable "
              f"{part['unreliable'].mean():.1%}; lowest cell coverage {part['coverage'].min():.0%}")


if __name__ == "__main__":
    main()
