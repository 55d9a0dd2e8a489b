"""The regularizers of the published training recipes, each a small seeded piece.

``ema``: an exponential moving average of the weights (torch's ``AveragedModel``),
scored instead of the raw weights. ``mixing``: mixup and cutmix (torchvision) with soft
targets. ``policies``: RandAugment / TrivialAugment applied to small chunks of a uint8
batch. ``erasing``: random erasing per image. Stochastic depth lives with the blocks
(``search_space.layers.drop_path``); the training loop only sets its rates.
"""

from evaluators.recipe.ema import WeightAverage
from evaluators.recipe.erasing import random_erase
from evaluators.recipe.mixing import BatchMixer
from evaluators.recipe.policies import POLICIES, policy_augment

__all__ = ["POLICIES", "BatchMixer", "WeightAverage", "policy_augment", "random_erase"]
