"""How fast the playbook runs, and how it scales: the figures of benchmarks/README.md.

Not a test: it measures and prints, it asserts nothing. Three parts (``--only`` picks some):

samples  `playbook run` on each bundled sample clinic, split into kernel start-up (kernel, imports and
         the clinic's exports read, overlapped), notebook execution (the chapters), report rendering
         (HTML, PDF); the analytics alone (load + KPIs + diagnosis, in a fresh process) beside it;
         and the wall time of the command a consultant types.
scale    The analytics on generated clinics of 1x, 4x and 16x the general sample's size: time and
         peak memory at each size, and the growth exponent (log time / log size). The tables are
         generated in memory (playbook.synth.generate) and handed over as a pickle, so the measuring
         process holds only what the analytics need. ``--full-run`` also exports the 16x clinic and
         times a whole `playbook run` on it, with the peak memory of its process tree.
many     20 typical clinics (the general sample's size, seeds 1..20) with `playbook run --jobs 2`.

    python benchmarks/speed.py                      # all three, ~8 minutes on 2 cores
    python benchmarks/speed.py --only samples,scale --full-run
"""
from __future__ import annotations

import argparse
import json
import math
import pickle
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

from playbook.config import SAMPLES_DIR

PYTHON = sys.executable
PLAYBOOK = [PYTHON, "-m", "playbook.cli"]
SCALES = (1, 4, 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="samples,scale,many", help="comma-separated parts: samples, scale, many")
    parser.add_argument("--full-run", action="store_true", help="scale: also export the 16x clinic and run it whole")
    parser.add_argument("--clinics", type=int, default=20, help="many: how many clinics")
    parser.add_argument("--jobs", type=int, default=2, help="many: clinics at once")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    print(f"machine: {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
          f"load average {', '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as tmp:
        tmp = Path(tmp)
        if "samples" in parts:
            samples(tmp / "samples")
        if "scale" in parts:
            scale(tmp / "scale", full_run=args.full_run)
        if "many" in parts:
            many(tmp / "many", args.clinics, args.jobs)


# --- samples ----------------------------------------------------------------------------------------

def samples(tmp: Path) -> None:
    from playbook.runner import run_clinic

    print("\n## playbook run per sample clinic (seconds; second in-process run, then the CLI)")
    print(f"{'clinic':18} {'start-up':>9} {'notebooks':>10} {'report':>7} {'total':>7} {'CLI wall':>9}   "
          f"{'load':>5} {'analytics':>9} (alone)")
    for clinic in sorted(p for p in SAMPLES_DIR.iterdir() if (p / "clinic.yaml").exists()):
        run_clinic(clinic, tmp / "first")  # fonts, templates and the disk cache warm up
        run = run_clinic(clinic, tmp / "second")
        chapters = sum(v for k, v in run.timings.items() if k[:2].isdigit())
        report = run.timings.get("report_html", 0) + run.timings.get("report_pdf", 0)
        load, analytics = _analytics_alone(clinic)
        tick = time.perf_counter()
        subprocess.run([*PLAYBOOK, "run", str(clinic), "--out", str(tmp / "cli"), "--force"], check=True,
                       capture_output=True)
        wall = time.perf_counter() - tick
        print(f"{clinic.name:18} {run.timings['check_input']:9.1f} {chapters:10.1f} {report:7.1f} "
              f"{run.timings['total']:7.1f} {wall:9.1f}   {load:5.1f} {analytics:9.1f}")
        print("    chapters: " + ", ".join(f"{k[:2]} {v:.1f}" for k, v in run.timings.items() if k[:2].isdigit()))
        print(f"    report: html {run.timings.get('report_html', 0):.1f}, pdf {run.timings.get('report_pdf', 0):.1f}"
              + ("" if run.ok else f"  (run failed: {run.error})"))


def _analytics_alone(clinic: Path) -> tuple[float, float]:
    """Reading the exports, then KPIs + the whole diagnosis, in a fresh process (no notebook, no chart)."""
    code = textwrap.dedent(f"""
        import time
        from playbook import kpis, load_clinic
        from playbook.diagnosis import diagnose
        tick = time.perf_counter()
        clinic = load_clinic({str(clinic)!r})
        loaded = time.perf_counter()
        kpis.clinic_kpis(clinic)
        diagnosis = diagnose(clinic)
        diagnosis.metrics(); diagnosis.ranking
        print(loaded - tick, time.perf_counter() - loaded)
    """)
    out = subprocess.run([PYTHON, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    return float(out[-2]), float(out[-1])


# --- scale ------------------------------------------------------------------------------------------

# Peak memory of the analytics alone: Linux's high-water mark (VmHWM) is reset once the tables are
# in memory (writing 5 to /proc/self/clear_refs), so loading the pickle does not count.
ANALYTICS = textwrap.dedent("""
    import gc, pickle, sys, time
    from playbook import kpis
    from playbook.clinic import clinic_from_tables
    from playbook.diagnosis import diagnose
    def rss(field):
        line = next(l for l in open("/proc/self/status") if l.startswith(field))
        return int(line.split()[1]) * 1024
    config, tables = pickle.load(open(sys.argv[1], "rb"))
    clinic = clinic_from_tables(config, tables)
    del tables
    gc.collect()
    open("/proc/self/clear_refs", "w").write("5")
    before = rss("VmRSS:")
    tick = time.perf_counter()
    kpis.clinic_kpis(clinic)
    diagnosis = diagnose(clinic)
    diagnosis.metrics(); diagnosis.ranking
    seconds = time.perf_counter() - tick
    print(seconds, before, rss("VmHWM:"))
""")


def scale(tmp: Path, *, full_run: bool) -> None:
    from playbook import synth

    tmp.mkdir(parents=True, exist_ok=True)
    print("\n## analytics (KPIs + diagnosis) on generated general clinics, tables in memory")
    print(f"{'scale':>5} {'patients':>9} {'charges':>9} {'visits':>9} {'generate':>9} {'analytics':>10} "
          f"{'RSS before':>11} {'peak RSS':>9}")
    rows = []
    for factor in SCALES:
        tick = time.perf_counter()
        clinic = synth.generate("general", seed=11, scale=factor)
        generated = time.perf_counter() - tick
        sizes = {name: len(clinic.tables[name]) for name in ("patients", "charges", "visits")}
        path = tmp / f"x{factor}.pickle"
        path.write_bytes(pickle.dumps((clinic.config, clinic.tables)))
        del clinic
        seconds, before, peak = map(float, subprocess.run([PYTHON, "-c", ANALYTICS, str(path)], check=True,
                                                          capture_output=True, text=True).stdout.split())
        rows.append((sizes["charges"], seconds, peak))
        print(f"{factor:>4}x {sizes['patients']:9,} {sizes['charges']:9,} {sizes['visits']:9,} {generated:8.1f}s "
              f"{seconds:9.1f}s {before / 2**30:10.2f}G {peak / 2**30:8.2f}G")
    # log(time ratio) / log(size ratio): 1 is linear growth; fixed costs pull the small end below 1
    for first, last in ((0, -1), (-2, -1)):
        (f0, (n0, t0, m0)), (f1, (n1, t1, m1)) = (SCALES[first], rows[first]), (SCALES[last], rows[last])
        print(f"growth exponent {f0}x -> {f1}x (charge lines): time {math.log(t1 / t0) / math.log(n1 / n0):.2f}, "
              f"peak memory {math.log(m1 / m0) / math.log(n1 / n0):.2f}  (1 = linear)")
    if full_run:
        _full_run(tmp)


def _full_run(tmp: Path) -> None:
    from playbook import synth

    folder = tmp / "x16"
    tick = time.perf_counter()
    synth.write_sample("general", folder, seed=11, scale=16)
    exported = time.perf_counter() - tick
    seconds, peak = _watch([*PLAYBOOK, "run", str(folder), "--out", str(tmp / "out16"), "--force"])
    print(f"16x clinic exported in {exported:.1f}s ({sum(p.stat().st_size for p in folder.iterdir()) / 2**20:.0f} MB); "
          f"`playbook run` to PDF {seconds:.1f}s, peak RSS of its process tree {peak / 2**30:.2f} GiB")


def _watch(command: list[str]) -> tuple[float, int]:
    """Wall time of a command and the peak of its process tree's summed resident memory."""
    tick = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.1)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed with exit status {process.returncode}")
    return time.perf_counter() - tick, peak


# --- many clinics -----------------------------------------------------------------------------------

def many(tmp: Path, count: int, jobs: int) -> None:
    from playbook import synth

    classroom = tmp / "classroom"
    for seed in range(1, count + 1):
        folder = classroom / f"clinic_{seed:02d}"
        synth.write_sample("general", folder, seed=seed)
        config = folder / "clinic.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace("clinic_id: general_clinic",
                                                                     f"clinic_id: clinic_{seed:02d}"), encoding="utf-8")
    print(f"\n## {count} typical clinics, `playbook run CLASSROOM --jobs {jobs}`")
    seconds, peak = _watch([*PLAYBOOK, "run", str(classroom), "--out", str(tmp / "out"), "--jobs", str(jobs)])
    stamps = [float(json.loads(p.read_text())["seconds"]) for p in (tmp / "out").glob("*/.playbook-stamp.json")]
    print(f"total wall {seconds:.1f}s ({seconds / 60:.1f} min) for {len(stamps)} good runs of {count}; "
          f"per clinic {statistics.mean(stamps):.1f}s mean, {max(stamps):.1f}s max; "
          f"peak RSS of the process tree {peak / 2**30:.2f} GiB")
    tick = time.perf_counter()
    subprocess.run([*PLAYBOOK, "run", str(classroom), "--out", str(tmp / "out"), "--jobs", str(jobs)], check=True,
                   capture_output=True)
    print(f"run again, nothing changed: {time.perf_counter() - tick:.1f}s (every clinic skipped)")


if __name__ == "__main__":
    main()
