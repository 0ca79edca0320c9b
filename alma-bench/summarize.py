#!/usr/bin/env python3
"""Renders JMH JSON results (java -jar benchmarks.jar ... -rf json -rff FILE) as the Markdown table of README.md.

Each row gives the time per call and the :gbytes / :gflops secondary results (GB/s, GFLOP/s), then the fraction
of the machine's limit that applies: memory-bound rows (matrix-vector products, attention, decode steps, the
element-wise kernels) against the best 2-thread StreamBench figure, compute-bound rows (matrix-matrix products,
prefill chunks, training steps) against PeakBench's FMA peak times the threads in use.

usage: summarize.py RESULTS.json [MORE.json ...] [--threads 2]
"""
import json
import sys


def main(argv):
    threads = 2
    files = []
    it = iter(argv)
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        else:
            files.append(a)
    rows = []
    for f in files:
        with open(f) as fh:
            rows.extend(json.load(fh))
    stream = max((r["secondaryMetrics"]["gbytes"]["score"] for r in rows
                  if r["benchmark"].endswith("StreamBench.read") and r["params"].get("threads") == str(threads)),
                 default=None)
    peak1 = max((r["secondaryMetrics"]["gflops"]["score"] for r in rows if r["benchmark"].endswith("PeakBench.fma")),
                default=None)
    peak = peak1 * threads if peak1 else None
    print(f"Reference limits: memory read bandwidth {fmt(stream)} GB/s (StreamBench.read, {threads} threads); "
          f"FMA peak {fmt(peak1)} GFLOP/s per core, {fmt(peak)} for {threads} (PeakBench.fma).\n")
    print("| benchmark | parameters | time/call | GB/s | GFLOP/s | fraction of limit |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        name = r["benchmark"].split(".")[-2] + "." + r["benchmark"].split(".")[-1]
        p = {k: v for k, v in r["params"].items() if v not in ("", "0") or k == "threads"} if "params" in r else {}
        ops = r["primaryMetric"]["score"]
        sec = r.get("secondaryMetrics", {})
        gb = sec.get("gbytes", {}).get("score")
        gf = sec.get("gflops", {}).get("score")
        compute = ("tokens" in p and p["tokens"] != "1" and "Matmul" in name) or name.endswith("prefillChunk") \
            or name.endswith("PeakBench.fma") or name.startswith("TrainStepBench")
        t = int(p.get("threads", "0")) or threads
        if name.endswith("PeakBench.fma"):
            frac = f"{gf / peak1:.0%} of 1-core peak" if peak1 else ""
        elif compute and peak1 and gf:
            frac = f"{gf / (peak1 * t):.0%} of FMA peak"
        elif stream and gb and ("Matmul" in name or "ModelBench" in name) and gb > stream * 1.05:
            # weights larger than the L3 stream from memory: the reference measured lower in its own minutes
            frac = f"{gb / stream:.0%} of bandwidth (reference low)"
        elif stream and gb and "Elementwise" not in name and "StreamBench.copy" not in name and gb > stream * 1.05:
            frac = f"in cache ({gb / stream:.0%} of DRAM bandwidth)"
        elif stream and gb and "Elementwise" not in name:
            frac = f"{gb / stream:.0%} of bandwidth"
        else:
            frac = "in cache"
        params = ", ".join(f"{k}={v}" for k, v in p.items())
        print(f"| {name} | {params} | {time(ops)} | {fmt(gb)} | {fmt(gf)} | {frac} |")


def fmt(v):
    return "" if v is None or v < 0.005 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def time(ops):
    s = 1 / ops
    return f"{s:.2f} s" if s >= 1 else f"{s * 1e3:.2f} ms" if s >= 1e-3 else f"{s * 1e6:.1f} µs"


if __name__ == "__main__":
    main(sys.argv[1:])
