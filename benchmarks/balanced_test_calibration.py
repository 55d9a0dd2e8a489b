"""Is the tested winner call calibrated on balanced accuracy with rare classes?

Two champions are retrained with S seeds and scored on one test split with an elpv-like
class mix (525 images: 60%, 11%, 4% and 25% per class). Each image has a difficulty
shared by both models; seed s of a model gets an image of class c right when
rho u_i + sqrt(1 - rho^2) e_si < Phi^-1(r_c + a_s), r_c the model's true recall on that
class and a_s ~ N(0, sigma_a) the seed's luck. The true balanced accuracy of a model is
the mean of its r_c; the true difference is known.

The comparison is nas/runs/analysis/tested.compare_on_test on the per-image scores that
`nas analyze` builds for balanced accuracy (right-or-wrong times N / (K n_c),
nas/runs/analysis/evidence.py). Printed, over --runs simulated splits each:

  null      both models with the same recalls: the rate of intervals excluding zero (a
            false win) should be at most 5%
  planted   A better by 4 points of balanced accuracy, all of it on the rare classes
            (where plain accuracy barely moves): coverage of the true difference by the
            95% interval, and the power; beside it the same data compared on plain
            accuracy, which is what `nas analyze` did before

    python benchmarks/balanced_test_calibration.py [--runs 2000] [--seeds 3]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nas.runs.analysis.evidence import class_weights
from nas.runs.analysis.tested import compare_on_test

SHARES = np.array([0.60, 0.11, 0.04, 0.25])  # elpv's test split, roughly
IMAGES = 525
RHO = 0.6
SEED_SD = 0.012  # sigma_a: about what `nas verify` measured on elpv (0.3-2.1 points)
BASE = np.array([0.93, 0.45, 0.35, 0.85])
BETTER = BASE + np.array([0.0, 0.08, 0.08, 0.0])  # +4 points of balanced accuracy


def scores(recalls: np.ndarray, labels: np.ndarray, difficulty: np.ndarray, seeds: int, rng):
    """(seeds, images) 0/1 table."""
    luck = rng.normal(0.0, SEED_SD, size=(seeds, 1))
    threshold = norm.ppf(np.clip(recalls[labels][None, :] + luck, 1e-6, 1 - 1e-6))
    noise = rng.standard_normal((seeds, labels.size))
    return (RHO * difficulty[None, :] + math.sqrt(1 - RHO**2) * noise) < threshold


def one_split(first: np.ndarray, second: np.ndarray, seeds: int, rng) -> tuple:
    counts = np.round(SHARES * IMAGES).astype(int)  # a stratified split
    labels = np.repeat(np.arange(len(SHARES)), counts)
    difficulty = rng.standard_normal(labels.size)
    a, b = (scores(r, labels, difficulty, seeds, rng) for r in (first, second))
    weights = class_weights(labels)
    balanced = compare_on_test(a * weights, b * weights)
    plain = compare_on_test(a, b)
    return balanced, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    def rate(values: list[bool]) -> str:
        n, k = len(values), int(sum(values))
        half = 1.96 * math.sqrt(max(k, 1) * max(n - k, 1) / n) / n
        return f"{100 * k / n:5.1f}% (+/- {100 * half:.1f})"

    null = [one_split(BASE, BASE, args.seeds, rng) for _ in range(args.runs)]
    print(f"{args.runs} splits of {IMAGES} test images, {args.seeds} seeds per model")
    print(f"null:    false wins on balanced accuracy {rate([b.clear for b, _ in null])}, "
          f"on plain accuracy {rate([p.clear for _, p in null])} (target <= 5%)")  # fmt: skip
    truth = float(BETTER.mean() - BASE.mean())
    planted = [one_split(BETTER, BASE, args.seeds, rng) for _ in range(args.runs)]
    covered = [b.low <= truth <= b.high for b, _ in planted]
    power = rate([b.low > 0 for b, _ in planted])
    plain = rate([p.low > 0 for _, p in planted])
    print(f"planted: +{100 * truth:.1f} points of balanced accuracy; 95% interval covers it "
          f"{rate(covered)}; power (interval above 0) {power}; "
          f"compared on plain accuracy instead: power {plain}")  # fmt: skip
    widths = np.median([b.high - b.low for b, _ in planted])
    print(f"         median interval width {100 * widths:.2f} points")


if __name__ == "__main__":
    main()
