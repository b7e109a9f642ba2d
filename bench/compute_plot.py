#!/usr/bin/env python3
"""Draws the compute benchmarks' summary (bench/compute_measure.py's summary.tsv) as grouped
bars: each program's median CPU time on each engine relative to native, on a log scale, with
the geometric mean (row `empty`, the engines' fixed cost, left out) as a last group.

usage: compute_plot.py SUMMARY.tsv OUT.png"""

import csv
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def main():
    summary, out = sys.argv[1], sys.argv[2]
    ratio = {}
    programs, engines = [], []
    with open(summary) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            p, e = row["program"], row["engine"]
            if e == "native" or p == "empty":
                continue
            ratio[(p, e)] = float(row["ratio_to_native"])
            if p not in programs:
                programs.append(p)
            if e not in engines:
                engines.append(e)
    groups = programs + ["geomean"]
    for e in engines:
        values = [ratio[(p, e)] for p in programs if (p, e) in ratio]
        if len(values) == len(programs):
            ratio[("geomean", e)] = math.exp(sum(map(math.log, values)) / len(values))

    fig, ax = plt.subplots(figsize=(1.2 * len(groups) + 2, 5))
    width = 0.8 / max(len(engines), 1)
    for i, e in enumerate(engines):
        xs = [g + (i - (len(engines) - 1) / 2) * width for g in range(len(groups))]
        ys = [ratio.get((p, e), float("nan")) for p in groups]
        # Bars grow from 1 (as fast as native), up or down: a log axis has no zero.
        ax.bar(xs, [y - 1 for y in ys], width, bottom=1, label=e)
    ax.set_yscale("log")
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_ylabel("CPU time / native gcc -O2 (log)")
    ax.set_title("wafer and peers on the compute benchmarks: median CPU time of the whole "
                 "process\n(start-up and compilation included) relative to native; lower is faster",
                 fontsize="medium")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize="small", ncol=len(engines), loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"plot: {out}")


if __name__ == "__main__":
    main()
