#!/usr/bin/env python3
"""Runs the compute benchmarks built by bench/compute.sh on every engine, turn by turn (each
round runs every program on every engine once, so a change in the machine's load spreads over
all engines alike), and measures each run's CPU time (user + sys of the whole process, from the
kernel's accounting of waited-for children). Checks every checksum against native's, prints
the tables, and writes DIR/runs.tsv (every run) and DIR/summary.tsv (medians, for the plot).

Exit status: 1 when a checksum differs from native's or a run fails or times out, else 0."""

import argparse
import math
import os
import re
import resource
import subprocess
import sys
import time

# The engines in the order of the table, and how each runs a program.
ENGINE_ORDER = ["native", "wasm2c", "v8", "v8-liftoff", "wafer", "wafer-epoch", "wabt"]


def command(engine, program, args):
    wasm = os.path.join(args.dir, "wasm", program + ".wasm")
    return {
        "native": [os.path.join(args.dir, "native", program)],
        "wasm2c": [os.path.join(args.dir, "wasm2c", program, "run")],
        "v8": ["node", args.node_runner, wasm],
        "v8-liftoff": ["node", "--liftoff-only", args.node_runner, wasm],
        "wafer": [args.wafer, "run", wasm, "--invoke", "run"],
        # epoch interruption on, with a deadline never reached: what the checks cost
        "wafer-epoch": [args.wafer, "run", wasm, "--epoch-deadline", "1000000000", "--invoke", "run"],
        "wabt": ["wasm-interp", wasm, "--run-all-exports"],
    }[engine]


def checksum(output):
    """The checksum an engine printed, as an unsigned 64-bit number: a decimal line (native,
    wasm2c, node) or "run() => i64:N" (wafer, wasm-interp; N read modulo 2^64, signed or not)."""
    match = re.search(r"run\(\) => i64:(-?\d+)", output) or re.fullmatch(r"\s*(\d+)\s*", output)
    return int(match.group(1)) % (1 << 64) if match else None


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv, timeout):
    """(cpu seconds, wall seconds, checksum or None, error text or None)."""
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, None, f"timed out after {timeout} s"
    except OSError as e:
        return None, None, None, str(e)
    cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
    value = checksum(done.stdout)
    if done.returncode != 0 or value is None:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return cpu, wall, None, f"exit status {done.returncode}: " + " | ".join(tail)
    return cpu, wall, value, None


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def print_ratios(programs, engines, others, med, failures, net):
    """The ratio table: each engine's median over native's, and wabt's over wafer's; with net,
    each median less that engine's `empty` median (its fixed cost) first."""
    def time(p, e):
        t = med.get((p, e))
        if t is None or not net:
            return t
        return t - med[("empty", e)]

    both = "wafer" in engines and "wabt" in engines
    columns = others + (["wabt/wafer"] if both else [])
    width = 12
    if net:
        print("\nratio to native net of fixed cost: (median - engine's `empty` median) / "
              "(native's median - native's `empty` median)")
    else:
        print("\nratio to native (median CPU time / native's median)"
              + ("; wabt/wafer = how many times less CPU wafer takes than wabt" if both else ""))
    print(f"{'program':<10}" + "".join(f"{c:>{width}}" for c in columns))
    ratios = {c: [] for c in columns}
    measured = [p for p in programs if p != "empty"]
    for p in measured if net else programs:
        row = []
        for c in columns:
            num, den = ("wabt", "wafer") if c == "wabt/wafer" else (c, "native")
            a, b = time(p, num), time(p, den)
            if a is None or b is None or a <= 0 or b <= 0:
                failed = (p, num) in failures or (p, den) in failures
                row.append("FAILED" if failed else "-")
                continue
            row.append(f"{a / b:.1f}x")
            if p != "empty":
                ratios[c].append(a / b)
        print(f"{p:<10}" + "".join(f"{c:>{width}}" for c in row))
    cells = []
    for c in columns:
        g = geomean(ratios[c])
        partial = "" if len(ratios[c]) == len(measured) else "*"
        cells.append("-" if g is None else f"{g:.1f}x{partial}")
    print(f"{'geomean':<10}" + "".join(f"{c:>{width}}" for c in cells))
    if any(c.endswith("*") for c in cells):
        print("* over the programs that engine completed only")


def measure(args, engines):
    """Runs every (program, engine) pair args.runs times, round by round. Returns the CPU times
    of each pair's good runs, and the pairs that failed (a failed pair is not run again)."""
    times = {(p, e): [] for p in args.programs for e in engines}
    expected = {}  # program -> native's checksum
    failures = {}  # (program, engine) -> what went wrong
    with open(os.path.join(args.dir, "runs.tsv"), "w") as log:
        log.write("program\tengine\tround\tcpu_s\twall_s\tchecksum\n")
        for round_no in range(1, args.runs + 1):
            print(f"round {round_no}/{args.runs}", file=sys.stderr, flush=True)
            for p in args.programs:
                for e in engines:
                    if (p, e) in failures or (e != "native" and p not in expected):
                        continue
                    cpu, wall, value, error = run_once(command(e, p, args), args.timeout)
                    if error is None and e == "native":
                        if expected.setdefault(p, value) != value:
                            error = f"checksum {value} differs from native's first, {expected[p]}"
                    elif error is None and value != expected[p]:
                        error = f"CHECKSUM MISMATCH: {value}, native {expected[p]}"
                    if error is not None:
                        failures[(p, e)] = error
                        print(f"FAILED: {p} on {e}: {error}", file=sys.stderr, flush=True)
                        continue
                    times[(p, e)].append(cpu)
                    log.write(f"{p}\t{e}\t{round_no}\t{cpu:.4f}\t{wall:.4f}\t{value}\n")
    return times, failures


def print_medians(programs, engines, times, med, failures):
    width = 17
    print("median CPU seconds (spread)")
    print(f"{'program':<10}" + "".join(f"{e:>{width}}" for e in engines))
    for p in programs:
        cells = []
        for e in engines:
            if (p, e) in failures:
                cells.append("FAILED")
            elif (p, e) in med:
                v = times[(p, e)]
                spread = (max(v) - min(v)) / med[(p, e)] * 100 if med[(p, e)] > 0 else 0
                cells.append(f"{med[(p, e)]:.3f} ({spread:.0f}%)")
            else:
                cells.append("-")
        print(f"{p:<10}" + "".join(f"{c:>{width}}" for c in cells))


def write_summary(path, programs, engines, med):
    with open(path, "w") as summary:
        summary.write("program\tengine\tmedian_cpu_s\tratio_to_native\n")
        for p in programs:
            for e in engines:
                if (p, e) in med and med.get((p, "native")):
                    summary.write(f"{p}\t{e}\t{med[(p, e)]:.4f}\t"
                                  f"{med[(p, e)] / med[(p, 'native')]:.4f}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--wafer", required=True)
    parser.add_argument("--node-runner", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--engines", default=" ".join(ENGINE_ORDER))
    parser.add_argument("programs", nargs="+")
    args = parser.parse_args()
    unknown = set(args.engines.split()) - set(ENGINE_ORDER)
    if unknown:
        sys.exit(f"unknown engine(s): {' '.join(sorted(unknown))}; known: {' '.join(ENGINE_ORDER)}")
    # Native is the reference for every checksum and ratio, so it always runs.
    engines = [e for e in ENGINE_ORDER if e in args.engines.split() or e == "native"]

    times, failures = measure(args, engines)
    med = {k: median(v) for k, v in times.items() if v and k not in failures}
    load = open("/proc/loadavg").read().split()[:3]
    print(f"\ncompute benchmarks: {args.runs} runs each, turn by turn; machine: {os.cpu_count()} "
          f"cores, load average {' '.join(load)}")
    print("CPU time = user + sys of the whole process: start-up, decoding, compiling and "
          "instantiating included\n(row `empty` shows that fixed cost; it is left out of the "
          "geometric means). Spread = (max - min) / median.\n")
    print_medians(args.programs, engines, times, med, failures)
    write_summary(os.path.join(args.dir, "summary.tsv"), args.programs, engines, med)
    others = [e for e in engines if e != "native"]
    print_ratios(args.programs, engines, others, med, failures, net=False)
    if all(("empty", e) in med for e in engines):
        print_ratios(args.programs, engines, others, med, failures, net=True)

    if failures:
        print(f"\n{len(failures)} FAILED (checksum mismatch, error or time-out):")
        for (p, e), error in sorted(failures.items()):
            print(f"  {p} on {e}: {error}")
        return 1
    print(f"\nevery checksum equals native's "
          f"({len(args.programs)} programs, {len(engines)} engines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
