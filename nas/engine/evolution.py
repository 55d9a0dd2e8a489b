"""Regularized evolution (Real et al., AAAI 2019, "REA") as an Optuna sampler.

The population is the `population` most recent complete trials (the oldest dies as a new
one is told: aging). Each new trial draws `sample` members at random, takes the best of
them as the parent (the first objective; with several, a random non-dominated one among
the drawn), and changes one of the parent's values at random. Until the population is
full, trials are drawn at random. The classic NAS-Bench-201 baseline; on a define-by-run
space it mutates the parameters every trial shares (a conditional key keeps Optuna's
random draw).
"""

from __future__ import annotations

import random
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState


class RegularizedEvolutionSampler(BaseSampler):
    def __init__(self, population: int = 10, sample: int = 3, seed: int | None = None):
        self.population, self.sample = population, sample
        self.rng = random.Random(seed)
        self.random = RandomSampler(seed=seed)
        self.space = IntersectionSearchSpace()

    def reseed_rng(self) -> None:
        self.rng.seed()
        self.random.reseed_rng()

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self.space.calculate(study)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(complete) < self.population or not search_space:
            return {}
        members = complete[-self.population :]
        parent = self._parent(study, self.rng.sample(members, min(self.sample, len(members))))
        child = {k: parent.params[k] for k in search_space if k in parent.params}
        name = self.rng.choice(sorted(child))
        distribution = search_space[name]
        if isinstance(distribution, CategoricalDistribution):
            others = [c for c in distribution.choices if c != child[name]]
            child[name] = self.rng.choice(others) if others else child[name]
        else:  # a number: a fresh uniform draw
            child[name] = self.random.sample_independent(study, trial, name, distribution)
        return child

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self.random.sample_independent(study, trial, param_name, param_distribution)

    def _parent(self, study: optuna.Study, drawn: list[FrozenTrial]) -> FrozenTrial:
        signs = [1 if d == StudyDirection.MAXIMIZE else -1 for d in study.directions]
        scored = [[s * v for s, v in zip(signs, t.values)] for t in drawn]
        if len(signs) == 1:
            return drawn[max(range(len(drawn)), key=lambda i: scored[i][0])]
        best = [
            i
            for i, a in enumerate(scored)
            if not any(all(x >= y for x, y in zip(b, a)) and b != a for b in scored)
        ]
        return drawn[self.rng.choice(best)]
