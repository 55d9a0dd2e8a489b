"""Mixup and CutMix on a normalized float batch, with soft targets (torchvision v2).

Each batch is mixed with probability ``mix_prob``; when both are on, CutMix is picked
with probability ``switch_prob`` (timm's convention, DeiT uses 0.5). torchvision draws
lambda (and CutMix's box) from torch's global generator, which the training loop seeds
with the training seed; the per-batch choices here come from the loop's own generator.
Labels come back as class probabilities (N, classes), which ``F.cross_entropy`` takes
as soft targets (label smoothing still applies on top).
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2


class BatchMixer:
    """Mixes (images, labels) batches; ``enabled`` is False when both alphas are 0."""

    def __init__(
        self, classes: int, mixup: float, cutmix: float, mix_prob: float, switch_prob: float
    ):
        self.mixup = v2.MixUp(alpha=mixup, num_classes=classes) if mixup > 0 else None
        self.cutmix = v2.CutMix(alpha=cutmix, num_classes=classes) if cutmix > 0 else None
        self.mix_prob, self.switch_prob = mix_prob, switch_prob
        self.enabled = (self.mixup or self.cutmix) is not None and mix_prob > 0

    def __call__(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixed images and (N, classes) soft labels, or the batch as it came."""
        if not self.enabled or float(torch.rand(1, generator=generator)) >= self.mix_prob:
            return images, labels
        use_cutmix = self.mixup is None or (
            self.cutmix is not None and float(torch.rand(1, generator=generator)) < self.switch_prob
        )
        return (self.cutmix if use_cutmix else self.mixup)(images, labels)
