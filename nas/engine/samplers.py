"""Optuna samplers by name, seeded, for define-by-run spaces with constraints.

Constraints reach every sampler the Optuna 5 way: the search calls
``trial.set_constraint(name, value)`` before telling the result, and TPE, NSGA-II and
GP read ``trial.constraints`` (feasible trials rank above infeasible ones). Random and
QMC ignore them. The default is chosen by measurement: see
``benchmarks/sampler_hypervolume.py`` and the table in the README.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from search_space.errors import SpaceError, did_you_mean

if TYPE_CHECKING:
    import optuna

SAMPLERS = ("tpe", "nsga2", "random", "qmc", "gp", "rea")
# benchmarks/sampler_hypervolume.py (cifar space, synflow vs FLOPs, 30 trials, 5 seeds):
# TPE beats random search on every seed (mean hypervolume 0.77 vs 0.68) at ~15 ms per ask.
# GP reaches more (0.83) but spends 0.7-2.4 s of driver time per ask, which alone would
# break the 10% overhead budget of 10 s trials; choose it with --sampler gp for long trials.
DEFAULT_SAMPLER = "tpe"


def make_sampler(
    name: str, *, seed: int, trials: int, parallel: bool = False
) -> optuna.samplers.BaseSampler:
    """The sampler `name`, seeded; `trials` sizes start-up phases to the budget.

    `parallel` (more than one trial in flight) turns on TPE's constant liar, so that
    workers asked at the same moment do not all get the same candidate.
    """
    if name not in SAMPLERS:
        raise SpaceError(
            f"search.sampler: unknown sampler {name!r}{did_you_mean(name, SAMPLERS)}; "
            f"choose one of {', '.join(SAMPLERS)}"
        )
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _FACTORIES[name](seed, trials, parallel)


def startup_trials(trials: int) -> int:
    """Random trials before a model-based sampler takes over: a fifth of the budget, 5..10.

    Optuna's default (10) would leave a 12-trial search almost entirely random.
    """
    return max(5, min(10, trials // 5))


def _tpe(seed: int, trials: int, parallel: bool) -> optuna.samplers.BaseSampler:
    import optuna

    # Multivariate: one joint density over the keys trials share, so that choices that work
    # together (a block and its width) are proposed together. Measured against Optuna's
    # multi-objective default (independent) and against group=True: this was the best of
    # the three (benchmarks/sampler_hypervolume.py, cifar space, 30 trials, 5 seeds).
    return optuna.samplers.TPESampler(
        seed=seed,
        n_startup_trials=startup_trials(trials),
        multivariate=True,
        constant_liar=parallel,
    )


def _nsga2(seed: int, trials: int, parallel: bool) -> optuna.samplers.BaseSampler:
    import optuna

    # Several generations must fit in the budget; Optuna's default of 50 would not evolve
    # at all in a 20-trial search.
    population = max(4, min(50, trials // 4))
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)


def _random(seed: int, trials: int, parallel: bool) -> optuna.samplers.BaseSampler:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def _qmc(seed: int, trials: int, parallel: bool) -> optuna.samplers.BaseSampler:
    import optuna

    return optuna.samplers.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False)


def _gp(seed: int, trials: int, parallel: bool) -> optuna.samplers.BaseSampler:
    import optuna

    return optuna.samplers.GPSampler(
        seed=seed, n_startup_trials=startup_trials(trials), warn_independent_sampling=False
    )


def _rea(seed: int, trials: int, parallel: bool) -> optuna.samplers.BaseSampler:
    from nas.engine.evolution import RegularizedEvolutionSampler

    # Real et al. evolved 20,000 models with a population of 100 and samples of 25; within a
    # few hundred queries evolution must start early: 10 and 3 up to 200 trials, then more.
    population = max(10, min(100, trials // 20))
    return RegularizedEvolutionSampler(population, max(3, population // 4), seed=seed)


_FACTORIES = {
    "tpe": _tpe,
    "nsga2": _nsga2,
    "random": _random,
    "qmc": _qmc,
    "gp": _gp,
    "rea": _rea,
}
