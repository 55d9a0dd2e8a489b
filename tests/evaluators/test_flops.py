"""FLOP counting: handles checked against hand computations, the op lists, the zoo table."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from evaluators.errors import UncountedOpError
from evaluators.flops import FLOP_CONVENTION, count_flops


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def test_sdpa_counts_both_products_per_batch_head() -> None:
    # q (1, 3, 16, 8), k (1, 3, 10, 8), v (1, 3, 10, 6): 3 heads * (16*10*8 + 16*10*6)
    def attend(x):
        q = x
        k = x[:, :, :10]
        return F.scaled_dot_product_attention(q, k, k[..., :6].contiguous())

    assert count_flops(Lambda(attend), (3, 16, 8))["flops"] == 3 * (16 * 10 * 8 + 16 * 10 * 6)


def test_windowed_sdpa_counts_windows_folded_into_the_batch() -> None:
    # (1, 4, 8, 8) -> 4 windows of 4x4 tokens, 2 heads of dim 2: 4*2 * 16*16*(2+2)
    def windows(x):
        x = x.permute(0, 2, 3, 1).reshape(1, 2, 4, 2, 4, 4).permute(0, 1, 3, 2, 4, 5)
        tokens = x.reshape(4, 16, 2, 2).transpose(1, 2)  # (windows, heads, tokens, dim)
        return F.scaled_dot_product_attention(tokens, tokens, tokens)

    assert count_flops(Lambda(windows), (4, 8, 8))["flops"] == 4 * 2 * 16 * 16 * 4


def test_grouped_query_attention_counts_the_query_heads() -> None:
    def gqa(x):  # x (1, 8, 16, 4): 8 query heads, 2 key/value heads
        kv = x[:, :2].contiguous()
        return F.scaled_dot_product_attention(x, kv, kv, enable_gqa=True)

    assert count_flops(Lambda(gqa), (8, 16, 4))["flops"] == 8 * 16 * 16 * (4 + 4)


@pytest.mark.parametrize("padding", ["same", 1])
def test_conv_same_padding_is_counted_like_explicit_padding(padding: object) -> None:
    conv = nn.Conv2d(3, 8, 3, padding=padding)
    assert count_flops(conv, (3, 10, 10))["flops"] == 8 * 3 * 3 * 3 * 10 * 10


def test_grouped_and_transposed_convolutions() -> None:
    depthwise = nn.Conv2d(8, 8, 5, padding=2, groups=8)
    assert count_flops(depthwise, (8, 6, 6))["flops"] == 8 * 5 * 5 * 36
    up = nn.ConvTranspose2d(4, 2, 2, stride=2)  # counted on input positions
    assert count_flops(up, (4, 5, 5))["flops"] == 4 * 2 * 2 * 2 * 25


def test_matmul_with_broadcast_and_vector_operands() -> None:
    weight = torch.randn(5, 6)
    assert count_flops(Lambda(lambda x: x @ weight), (2, 4, 5))["flops"] == 2 * 4 * 5 * 6
    vector = torch.randn(5)
    assert count_flops(Lambda(lambda x: x @ vector), (1, 4, 5))["flops"] == 4 * 5


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (lambda x: torch.bmm(x[0], x[0].transpose(1, 2)), 3 * 4 * 5 * 4),
        (lambda x: torch.baddbmm(x[0, :, :, :4], x[0], x[0].transpose(1, 2)), 3 * 4 * 5 * 4),
        (lambda x: torch.einsum("bij,bkj->bik", x[0], x[0]), 3 * 4 * 5 * 4),
        (lambda x: F.linear(x, torch.randn(7, 5)), 3 * 4 * 7 * 5),
    ],
)
def test_other_matrix_products(fn, expected: int) -> None:
    assert count_flops(Lambda(fn), (3, 4, 5))["flops"] == expected


def test_multihead_attention_counts_projections_and_products() -> None:
    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = nn.MultiheadAttention(16, 2, batch_first=True)

        def forward(self, x):  # (1, 1, 10, 16) -> tokens (1, 10, 16)
            tokens = x[:, 0]
            return self.mha(tokens, tokens, tokens, need_weights=False)[0]

    length, dim = 10, 16
    expected = 4 * length * dim * dim + 2 * length * length * dim
    with torch.no_grad():  # no_grad must not hide the fused path's cost
        assert count_flops(Attend(), (1, length, dim))["flops"] == expected


def test_elementwise_ops_are_listed_not_counted() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.GELU(), Lambda(lambda x: x.softmax(-1) + x))
    result = count_flops(model, (1, 4, 8))
    assert result["flops"] == 4 * 8 * 8
    assert {"aten::gelu", "aten::softmax", "aten::add"} <= set(result["uncounted_ops"])
    assert result["flop_convention"] == FLOP_CONVENTION


def test_unsupported_matrix_op_fails_loudly() -> None:
    tbc = Lambda(lambda x: torch.conv_tbc(x[0], torch.ones(3, 4, 5), torch.zeros(5)))
    with pytest.raises(UncountedOpError, match="aten::conv_tbc"):
        count_flops(tbc, (7, 2, 4))


def test_custom_autograd_function_fails_loudly() -> None:
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x @ x.transpose(-1, -2)

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(UncountedOpError, match="PythonOp"):
        count_flops(Lambda(Square.apply), (1, 4, 4))


def test_stages_split_module_lists_and_sum_to_the_total() -> None:
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 4, 3, padding=1)
            self.stages = nn.ModuleList([nn.Conv2d(4, 4, 1), nn.Conv2d(4, 8, 1)])
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 16, 2))

        def forward(self, x):
            x = self.stem(x)
            for stage in self.stages:
                x = stage(x)
            return self.head(x)

    result = count_flops(Net(), (1, 4, 4))
    assert result["stages"] == {
        "stem": 4 * 9 * 16,
        "stages.0": 4 * 4 * 16,
        "stages.1": 4 * 8 * 16,
        "head": 8 * 16 * 2,
    }
    assert sum(result["stages"].values()) == result["flops"]


def test_counting_restores_train_mode_and_counts_batchnorm_at_inference() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.BatchNorm2d(2), nn.Dropout())
    model.train()
    result = count_flops(model, (1, 3, 3))
    assert model.training and all(m.training for m in model.modules())
    assert result["flops"] == 2 * 9 + 2 * 2 * 9  # conv + eval-mode batch norm (2 per element)


REFERENCE_GMACS = {  # shared/reference/architectures.md, 224x224, 1000 classes
    "resnet50": 4.11,
    "convnext_tiny": 4.47,
    "vit_small_patch16": 4.61,
    "coatnet_0": 4.58,
}


@pytest.mark.slow  # builds four ImageNet-size models: ~15 s in all
@pytest.mark.parametrize(("name", "gmacs"), REFERENCE_GMACS.items())
def test_zoo_models_match_the_reference_gmacs(name: str, gmacs: float) -> None:
    from search_space import build_model, load_architecture

    arch = load_architecture(name)
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
    result = count_flops(build_model(arch), shape)
    assert result["flops"] / 1e9 == pytest.approx(gmacs, rel=0.02)
    assert set(result["stages"]) >= {"stem", "stages.0", "head"}
