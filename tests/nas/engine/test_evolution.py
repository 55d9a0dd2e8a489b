"""Regularized evolution: each child is a one-value mutation of a recent member, and
evolution climbs where random search would need luck."""

from __future__ import annotations

import optuna
import pytest

from nas.engine.evolution import RegularizedEvolutionSampler
from nas.engine.samplers import make_sampler

KEYS = [f"k{i}" for i in range(6)]
CHOICES = ["a", "b", "c", "d", "x"]


def ones(trial: optuna.Trial) -> float:
    """How many of six 5-way choices are 'x': one architecture in 15,625 scores 6."""
    return float(sum(trial.suggest_categorical(k, CHOICES) == "x" for k in KEYS))


@pytest.mark.parametrize("seed", range(5))
def test_evolution_finds_the_one_optimum_in_15625(seed: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        direction="maximize", sampler=make_sampler("rea", seed=seed, trials=300)
    )
    study.optimize(ones, n_trials=300)
    # random search: 1 - (1 - 1/15625)^300 = 1.9% per seed
    assert study.best_value == 6


def test_every_child_is_one_mutation_of_a_population_member() -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = RegularizedEvolutionSampler(population=8, sample=3, seed=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(ones, n_trials=60)
    trials = study.get_trials()
    for i in range(8, 60):
        population = trials[i - 8 : i]
        child = trials[i].params
        distances = [sum(child[k] != m.params[k] for k in KEYS) for m in population]
        assert 1 in distances
