#!/usr/bin/env python3
"""summary.py RUNS.TSV - the table of docs/benchmarks/verify.md from bench/verify/run.sh's runs.

Per scenario: runs; failed (exit 1) by the whole gate and by the canary comparison alone;
inconclusive (exit 2); passed (exit 0); the rate that matters (false-fail rate for the A/A
scenario, detection rate for the others); time to decision (the CLI's elapsed_s, from the
moment the canary's release changed on disk to the verdict: it includes waiting for the agent
to report the release) as median, p95 and max.
"""

import csv
import sys


def quantile(v, q):
    v = sorted(v)
    if not v:
        return 0.0
    h = q * (len(v) - 1)
    lo = int(h)
    if lo + 1 >= len(v):
        return v[-1]
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo])


def main():
    rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter="\t"))
    order = []
    for r in rows:
        if r["scenario"] != "warmup" and r["scenario"] not in order:
            order.append(r["scenario"])
    print("| scenario | runs | failed (gate) | failed by canary | inconclusive (exit 2) | passed"
          " | rate | time to decision median / p95 / max |")
    print("|---|---|---|---|---|---|---|---|")
    for s in order:
        rs = [r for r in rows if r["scenario"] == s]
        n = len(rs)
        failed = sum(r["exit"] == "1" for r in rs)
        by_canary = sum(r["canary"] == "failed" for r in rs)
        inconcl = sum(r["exit"] == "2" for r in rs)
        passed = sum(r["exit"] == "0" for r in rs)
        t = [float(r["elapsed_s"]) for r in rs]
        if s == "aa":
            rate = f"false fail {100.0 * failed / n:.0f} %, not passed {100.0 * (n - passed) / n:.0f} %"
        else:
            rate = f"detected {100.0 * failed / n:.0f} %"
        print(f"| {s} | {n} | {failed} | {by_canary} | {inconcl} | {passed} | {rate} | "
              f"{quantile(t, 0.5):.1f} / {quantile(t, 0.95):.1f} / {max(t):.1f} s |")


if __name__ == "__main__":
    main()
