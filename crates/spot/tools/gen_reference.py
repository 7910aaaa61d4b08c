#!/usr/bin/env python3
"""Generate extra libspot 3.1.0 reference streams for nectar-spot's tests.

Reuses the shared generator (shared/spot-ref/spot_reference.py: same CSV and
JSON layout, libspot's Python module as the oracle) with more seeds, more
distributions and other parameters than the three shared presets, so that the
equality test does not only pass on the streams it was written against.

    python3 -m venv .venv && .venv/bin/pip install libspot==3.1.0
    .venv/bin/python crates/spot/tools/gen_reference.py \
        --shared ../shared/spot-ref --out-dir crates/spot/tests/data
"""

import argparse
import math
import os
import sys


def gen_pareto(rng, n_train, n_stream):
    """Pareto(alpha=3): heavy upper tail (gamma > 0)."""
    data = [rng.paretovariate(3.0) for _ in range(n_train + n_stream)]
    return data[:n_train], data[n_train:]


def gen_uniform(rng, n_train, n_stream):
    """U(0, 1): bounded tails (gamma < 0)."""
    data = [rng.random() for _ in range(n_train + n_stream)]
    return data[:n_train], data[n_train:]


def gen_lognormal(rng, n_train, n_stream):
    """LogNormal(0, 0.5) with rare U(2, 6)x bursts in the stream."""
    train = [rng.lognormvariate(0.0, 0.5) for _ in range(n_train)]
    stream = []
    for _ in range(n_stream):
        x = rng.lognormvariate(0.0, 0.5)
        if rng.random() < 0.003:
            x *= rng.uniform(2.0, 6.0)
        stream.append(x)
    return train, stream


def gen_counts(rng, n_train, n_stream):
    """Poisson-like packet counts (many ties) with a level shift mid-stream."""
    def poisson(lam):
        # Knuth; fine for small lambda.
        l, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= l:
                return float(k)
            k += 1
    train = [poisson(6.0) for _ in range(n_train)]
    stream = [poisson(6.0 if i < n_stream // 2 else 7.5) for i in range(n_stream)]
    return train, stream


EXTRA = {
    # name: (generator, q, level, max_excess, low, discard, n_train, n_stream, seed)
    "x_gaussian_s1_q1e-4": ("gaussian", 1e-4, 0.99, 200, 0, 1, 5000, 10000, 1),
    "x_gaussian_s2_low_keep": ("gaussian", 5e-3, 0.95, 100, 1, 0, 1000, 6000, 2),
    "x_exponential_s3": ("exponential", 1e-3, 0.99, 30, 0, 1, 3000, 6000, 3),
    "x_pareto_s4": ("pareto", 1e-4, 0.98, 200, 0, 1, 2000, 8000, 4),
    "x_pareto_s5_keep": ("pareto", 1e-3, 0.995, 500, 0, 0, 4000, 6000, 5),
    "x_uniform_s6": ("uniform", 1e-3, 0.98, 80, 0, 1, 2000, 6000, 6),
    "x_uniform_s7_low": ("uniform", 1e-4, 0.97, 150, 1, 1, 2000, 6000, 7),
    "x_lognormal_s8": ("lognormal", 2e-4, 0.98, 120, 0, 1, 3000, 8000, 8),
    "x_counts_s9": ("counts", 1e-3, 0.98, 60, 0, 1, 2000, 6000, 9),
    "x_drift_s10_up": ("drift_spikes", 1e-3, 0.98, 200, 0, 1, 2000, 6000, 10),
    "x_drift_s11_low": ("drift_spikes", 1e-4, 0.99, 40, 1, 1, 2000, 6000, 11),
    "x_gaussian_s12_l999": ("gaussian", 1e-4, 0.999, 100, 0, 1, 20000, 5000, 12),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default="../shared/spot-ref")
    ap.add_argument("--out-dir", default="crates/spot/tests/data")
    ap.add_argument("--only", action="append")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.shared))
    import spot_reference as ref
    ref.GENERATORS.update(pareto=gen_pareto, uniform=gen_uniform,
                          lognormal=gen_lognormal, counts=gen_counts)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, (gen, q, level, mx, low, disc, n_tr, n_st, seed) in EXTRA.items():
        if args.only and name not in args.only:
            continue
        p = dict(generator=gen, q=q, level=level, max_excess=mx, low=low,
                 discard_anomalies=disc, n_train=n_tr, n_stream=n_st)
        meta = ref.build_reference(name, p, seed, args.out_dir,
                                   self_check=False)
        print(name, meta["counts_libm"], meta["fit_state_libm"]["Nt"])


if __name__ == "__main__":
    main()
