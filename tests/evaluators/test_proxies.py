"""Zero-cost proxies: deterministic, discriminating, harmless to the model, any block type."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from evaluators.proxies import compute_proxy, dataset_batch, list_proxies
from search_space.errors import SpaceError
from tests.evaluators.conftest import tiny_convnet


class TinyTransformer(nn.Module):
    """Patchify conv, BatchNorm, then a pre-norm attention block with GELU MLP."""

    def __init__(self, dim: int = 16, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.patch = nn.Sequential(nn.Conv2d(1, dim, 4, stride=4), nn.BatchNorm2d(dim))
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch(x).flatten(2).transpose(1, 2)  # (N, C, H, W) -> (N, T, C)
        q, k, v = self.qkv(self.norm1(tokens)).view(len(x), -1, 3, 2, 8).unbind(2)
        attended = nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        )  # (N, heads, T, head_dim)
        tokens = tokens + self.proj(attended.transpose(1, 2).flatten(2))
        tokens = tokens + self.mlp(self.norm2(tokens))
        return self.head(tokens.mean(1))


MODELS = {"convnet": tiny_convnet, "transformer": TinyTransformer}


@pytest.mark.parametrize("proxy", list_proxies())
@pytest.mark.parametrize("kind", MODELS)
def test_proxy_is_finite_deterministic_and_leaves_the_model_alone(proxy: str, kind: str) -> None:
    model = MODELS[kind]()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first = compute_proxy(proxy, model, (1, 28, 28), seed=0)
    again = compute_proxy(proxy, model, (1, 28, 28), seed=0)
    assert math.isfinite(first) and first == again
    assert model.training and all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("proxy", list_proxies())
def test_different_models_get_different_scores(proxy: str) -> None:
    scores = {
        compute_proxy(proxy, tiny_convnet(width=4), (1, 28, 28)),
        compute_proxy(proxy, tiny_convnet(width=16), (1, 28, 28)),
        compute_proxy(proxy, TinyTransformer(), (1, 28, 28)),
    }
    assert len(scores) == 3


def test_wider_nets_have_more_synaptic_flow() -> None:
    narrow = compute_proxy("synflow", tiny_convnet(width=4), (1, 28, 28))
    wide = compute_proxy("synflow", tiny_convnet(width=16), (1, 28, 28))
    assert wide > narrow


def test_naswot_is_the_log_determinant_of_the_agreement_kernel() -> None:
    # One ReLU layer over 2 units: inputs with codes [1, 0], [0, 1] agree on 0 units and
    # each agrees with itself on 2, so K = [[2, 0], [0, 2]] and log det K = log 4.
    model = nn.Sequential(nn.Flatten(), nn.ReLU())
    batch = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).view(2, 1, 1, 2)
    assert compute_proxy("naswot", model, batch) == pytest.approx(math.log(4))


def test_seed_changes_the_random_batch() -> None:
    model = tiny_convnet()
    assert compute_proxy("grad_norm", model, (1, 28, 28), seed=0) != compute_proxy(
        "grad_norm", model, (1, 28, 28), seed=1
    )


def test_dataset_batches_are_seeded_real_images() -> None:
    from evaluators.config import DataConfig
    from evaluators.datasets import load_dataset

    data = load_dataset(DataConfig(limit=200))
    images, labels = dataset_batch(data, 16, seed=0)
    again, _ = dataset_batch(data, 16, seed=0)
    assert images.shape == (16, 1, 28, 28) and labels.shape == (16,)
    assert torch.equal(images, again) and images.dtype == torch.float32
    score = compute_proxy("naswot", tiny_convnet(), dataset=data, seed=0)
    assert score == compute_proxy("naswot", tiny_convnet(), dataset=data, seed=0)


def test_unknown_proxy_suggests_a_name() -> None:
    with pytest.raises(SpaceError, match=r"unknown proxy 'synflw' \(did you mean 'synflow'\?\)"):
        compute_proxy("synflw", tiny_convnet(), (1, 28, 28))
