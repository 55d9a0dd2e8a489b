"""Is the winner call calibrated? False-win rate under nulls and power under a planted
difference, for the old call (percentile bootstrap of each group's best) and the new one
(nas/runs/analysis/winner.py), on simulated searches with measured noise.

Noise, from `nas verify` on the demo front (mnist5k, 6 epochs): seed-to-seed standard
deviations of 0.21 to 0.62 points on 1,000 validation images at about 98%. Each simulated
architecture draws its seed SD uniformly from that range.

Images are simulated, not just accuracies, so evaluation noise and the pairing of two
models on the same images are real: image i has a difficulty u_i ~ N(0, 1) shared by every
model (hard digits are hard for all), and seed s of a model of true accuracy mu gets it
right when rho u_i + sqrt(1 - rho^2) e_si < Phi^-1(mu + a_s), e_si ~ N(0, 1) independent,
a_s ~ N(0, sigma_a) the seed's luck. Over fresh images this seed scores mu + a_s exactly;
sigma_a is set so that the seed-to-seed SD on a fixed set of 1,000 images is the drawn SD.
Every simulated run draws its own validation and test images.

Scenarios, each over --runs simulated searches:

  null-family   12 architectures from one family (true accuracies N(97.2%, 1.0 point),
                at most 99%), labels A/B at random: the design choice does nothing
  null-equal    5 and 7 architectures, every true accuracy 98.0%: pure noise
  planted       5 and 7 architectures, A at 98.5% and B at 97.5%: A's best is 1 point better

Calls:

  old           the current call: percentile bootstrap of the difference of the groups'
                best single-seed validation scores; "clear" when the interval excludes 0
  new/untested  the search's scores only: never clear by construction (reported to show it)
  new/tested    the same run after `nas verify --winners`: the candidates retrained with
                --seeds fresh seeds on --test-images test images; clear when the test
                interval excludes 0 and the label permutation test gives p < 0.05
  model-level   the test-split comparison of the two champions alone (no permutation test)

A "false win" under a null is any clear call; under `planted` the rate of clear calls for
A is the power. Then the power of the model-level test at the planted 1 point for a grid
of seeds and test images, and the smallest that reach 80%.

Part (b), real reruns: with --reruns RUN..., each run folder (the demo search with
different --seed values, then `nas verify RUN --winners --budget ...`) is analysed by
family under --budget flops<=1e6 and flops<=5e6, with the old call and the new one, and
the calls are compared: no two runs may make opposite clear calls at any budget.

    python benchmarks/winner_calibration.py [--runs 1000] [--seeds 3] [--test-images 1000]
    python benchmarks/winner_calibration.py --reruns results/reruns/seed*
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nas.runs.analysis.bootstrap import call_winner as bootstrap_call
from nas.runs.analysis.evidence import Evidence
from nas.runs.analysis.tested import compare_on_test
from nas.runs.analysis.winner import call_winner
from nas.runs.noise import seed_noise

SEED_SD_RANGE = (0.0021, 0.0062)  # measured by `nas verify` on the demo front
RHO = 0.8  # how much two models agree on which images are hard
VAL_IMAGES = 1000


@dataclass(frozen=True)
class Model:
    mean: float  # true accuracy over fresh images and seeds
    seed_level_sd: float  # sigma_a


def interaction_variance(mean: float, rho: float = RHO, grid: int = 4001) -> float:
    """E_u[p(u)(1 - p(u))]: the seed-by-image variance of one image's 0/1 score, with
    p(u) = Phi((Phi^-1(mean) - rho u) / sqrt(1 - rho^2)) (the part of a seed's accuracy on
    a fixed image set that is evaluation noise)."""
    u = np.linspace(-8, 8, grid)
    weight = norm.pdf(u) * (u[1] - u[0])
    p = norm.cdf((norm.ppf(mean) - rho * u) / math.sqrt(1 - rho**2))
    return float(np.sum(weight * p * (1 - p)))


def make_model(mean: float, rng: np.random.Generator) -> Model:
    """A model whose seed-to-seed SD on a fixed set of VAL_IMAGES is drawn from the
    measured range (its seed-level part is what remains after the image part)."""
    total = rng.uniform(*SEED_SD_RANGE)
    level = total**2 - interaction_variance(mean) / VAL_IMAGES
    return Model(mean, math.sqrt(max(level, 0.0)))


def score(model: Model, difficulty: np.ndarray, seeds: int, rng: np.random.Generator):
    """(seeds, images) 0/1 table of `model` on images of the given difficulty."""
    luck = rng.normal(0.0, model.seed_level_sd, size=(seeds, 1))
    threshold = norm.ppf(np.clip(model.mean + luck, 1e-6, 1 - 1e-6))
    noise = rng.standard_normal((seeds, difficulty.size))
    latent = RHO * difficulty[None, :] + math.sqrt(1 - RHO**2) * noise
    return latent < threshold


def scenario(
    name: str, rng: np.random.Generator, sizes: tuple[int, int] = (5, 7)
) -> dict[str, list[Model]]:
    if name == "null-family":
        means = np.minimum(rng.normal(0.972, 0.010, size=12), 0.99)
        labels = rng.permutation(np.r_[np.zeros(6, bool), np.ones(6, bool)])
        labels[rng.integers(12)] = rng.random() < 0.5  # unequal sizes now and then
        if labels.all() or not labels.any():
            labels[0] = not labels[0]
        models = [make_model(m, rng) for m in means]
        return {
            "A": [m for m, x in zip(models, labels) if x],
            "B": [m for m, x in zip(models, labels) if not x],
        }
    if name == "null-equal":
        return {
            "A": [make_model(0.98, rng) for _ in range(5)],
            "B": [make_model(0.98, rng) for _ in range(7)],
        }
    return {
        "A": [make_model(0.985, rng) for _ in range(sizes[0])],
        "B": [make_model(0.975, rng) for _ in range(sizes[1])],
    }


def simulate_run(
    name: str,
    rng: np.random.Generator,
    seeds: int,
    test_images: int,
    sizes: tuple[int, int] = (5, 7),
    val_images: int = VAL_IMAGES,
) -> dict:
    groups = scenario(name, rng, sizes)
    validation = rng.standard_normal(val_images)
    test = rng.standard_normal(test_images)
    models, tables, number = {}, {}, 0
    for label, members in groups.items():
        rows = []
        for model in members:
            accuracy = float(score(model, validation, 1, rng).mean())
            rows.append({"number": number, "state": "complete", "accuracy": accuracy,
                         "val_images": val_images})  # fmt: skip
            models[number] = model
            number += 1
        tables[label] = pd.DataFrame(rows)
    old = bootstrap_call({k: t["accuracy"].to_numpy() for k, t in tables.items()}, seed=0)
    noise = seed_noise(pd.concat(tables.values()), [])
    untested = call_winner(tables, Evidence(noise), "any budget")
    retrain = {n for label in tables for n in untested["candidates"][label]}
    scores = {n: score(models[n], test, seeds, rng) for n in retrain}
    tested = call_winner(tables, Evidence(noise, scores), "any budget")
    a, b = tested["champions"]
    others = [scores[n] for n in retrain if n not in (a, b)]
    model_level = compare_on_test(scores[a], scores[b], others)
    return {
        "old": old.clear,
        "old_for_a": old.clear and old.winner == "A",
        "untested": untested["clear"],
        "tested": tested["clear"],
        "tested_for_a": tested["clear"] and tested["winner"] == "A",
        "model": model_level.clear,
        "model_for_a": model_level.low > 0 if tested["winner"] == "A" else model_level.high < 0,
        "retrained": len(retrain),
    }


def rate(values: list[bool]) -> str:
    """A share with its 95% Wilson interval."""
    n, k = len(values), int(sum(values))
    p = k / n
    centre = (p + 1.92 / n) / (1 + 3.84 / n)
    half = 1.96 * math.sqrt(p * (1 - p) / n + 0.96 / n**2) / (1 + 3.84 / n)
    return f"{100 * p:5.1f}% [{100 * max(0, centre - half):4.1f}, {100 * (centre + half):5.1f}]"


def power_grid(runs: int, rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """Model-level power at the planted 1 point: two champions (98.5% and 97.5%) retrained
    with S seeds each and scored on N test images."""
    found = []
    for images in (1000, 2000, 4000):
        for seeds in (2, 3, 5, 8):
            hits = 0
            for _ in range(runs):
                first, second = make_model(0.985, rng), make_model(0.975, rng)
                test = rng.standard_normal(images)
                result = compare_on_test(
                    score(first, test, seeds, rng), score(second, test, seeds, rng)
                )
                hits += result.low > 0
            found.append((seeds, images, hits / runs))
    return found


def combined_power(runs: int, rng: np.random.Generator) -> None:
    """The new call's power at the planted 1 point (clear for A: test interval above 0 and
    labels permutation p < 0.05) by trials per group, validation images and seeds."""
    print("new call's power at a planted 1 point, by trials, validation images and seeds:")
    for sizes in ((5, 7), (10, 14)):
        for val_images in (1000, 4000):
            for seeds in (3, 5):
                hits = [
                    simulate_run("planted", rng, seeds, 1000, sizes, val_images)["tested_for_a"]
                    for _ in range(runs)
                ]
                mark = "  <- 80% reached" if np.mean(hits) >= 0.8 else ""
                print(f"  {sizes[0]} and {sizes[1]} trials, {val_images:,} validation images, "
                      f"{seeds} seeds, 1,000 test images: {rate(hits)}{mark}")  # fmt: skip


REAL_BUDGETS = ("flops<=1e6", "flops<=5e6")


def _old_calls(path: str) -> dict[str, tuple[str | None, bool]]:
    """The old call (bootstrap of the groups' best single-seed scores) per budget."""
    from nas.runs.analysis.bootstrap import parse_budget
    from nas.runs.analysis.features import group_column
    from nas.runs.analysis.objectives import eligible
    from nas.runs.analysis.source import open_source

    source = open_source(path)
    rows = eligible(source.table, source.goals)
    groups = dict(tuple(rows.groupby(group_column(rows, "family"))))
    found = {}
    for budget in (None, *map(parse_budget, REAL_BUDGETS)):
        values = {
            str(k): (t[budget.mask(t)] if budget else t)["accuracy"].to_numpy(float)
            for k, t in groups.items()
        }
        call = bootstrap_call({k: v for k, v in values.items() if v.size})
        found[str(budget) if budget else "any budget"] = (call.winner, call.clear)
    return found


def real_reruns(paths: list[str]) -> None:
    from nas.runs.analysis.run import analyze_run

    print("real reruns: old call / new call per budget (winner, and whether clear)")
    clear_old: dict[str, set[str]] = {}
    clear_new: dict[str, set[str]] = {}
    for path in paths:
        document, _ = analyze_run(
            path, keys=["family"], budgets=list(REAL_BUDGETS), evaluator=None, write=False
        )
        old = _old_calls(path)
        cells = []
        for call in document["groupings"][0]["winners"]:
            budget = call["budget"]
            was, was_clear = old[budget]
            if was_clear:
                clear_old.setdefault(budget, set()).add(was)
            if call["clear"]:
                clear_new.setdefault(budget, set()).add(call["winner"])
            status = call.get("status", "")
            new = f"{call.get('winner')} {'CLEAR' if call['clear'] else status}"
            cells.append(f"{budget}: {was} {'CLEAR' if was_clear else 'not clear'} / {new}")
        print(f"  {path}: " + "; ".join(cells))
        for call in document["groupings"][0]["winners"]:
            print(f"      {call['sentence']}")
    for name, found in (("old", clear_old), ("new", clear_new)):
        opposite = {b: w for b, w in found.items() if len(w) > 1}
        verdict = f"opposite clear calls at {opposite}" if opposite else "no opposite clear calls"
        print(f"  {name} call across {len(paths)} runs: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400, help="simulated runs per scenario")
    parser.add_argument("--seeds", type=int, default=3, help="fresh seeds per retrained model")
    parser.add_argument("--test-images", type=int, default=1000)
    parser.add_argument("--power-runs", type=int, default=300)
    parser.add_argument("--reruns", nargs="+", metavar="RUN", help="part (b): run folders")
    args = parser.parse_args()
    if args.reruns:
        real_reruns(args.reruns)
        return
    rng = np.random.default_rng(20261204)
    started = time.perf_counter()
    print(f"{args.runs} simulated runs per scenario; {args.seeds} fresh seeds per retrained "
          f"model, {args.test_images:,} test images, {VAL_IMAGES:,} validation images; seed "
          f"SD per model drawn from {100 * SEED_SD_RANGE[0]:.2f}-{100 * SEED_SD_RANGE[1]:.2f} "
          "points")  # fmt: skip
    print("clear-call rate [95% interval]   old bootstrap call    new: untested         "
          "new: tested           model-level only")  # fmt: skip
    for name in ("null-family", "null-equal", "planted"):
        results = [simulate_run(name, rng, args.seeds, args.test_images) for _ in range(args.runs)]

        def column(key: str, results: list[dict] = results) -> list[bool]:
            return [r[key] for r in results]

        suffix = "_for_a" if name == "planted" else ""
        print(f"  {name:<12} {'power' if suffix else 'false win':<17} "
              f"{rate(column('old' + suffix))}  {rate(column('untested'))}  "
              f"{rate(column('tested' + suffix))}  {rate(column('model' + suffix))}")  # fmt: skip
        retrained = np.mean(column("retrained"))
        print(f"  {'':<12} models retrained per run: {retrained:.1f}")
    print("model-level power at a planted 1 point (two champions, 98.5% vs 97.5%):")
    grid = power_grid(args.power_runs, rng)
    for seeds, images, power in grid:
        mark = "  <- 80% reached" if power >= 0.8 else ""
        print(f"  {seeds} seeds, {images:>5,} test images: {100 * power:5.1f}%{mark}")
    enough = [(s, n) for s, n, p in grid if p >= 0.8]
    if enough:
        fewest = min(enough, key=lambda sn: (sn[0] * sn[1], sn[0]))
        print(f"smallest design reaching 80% here: {fewest[0]} seeds and {fewest[1]:,} test images")
    combined_power(args.power_runs, rng)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
