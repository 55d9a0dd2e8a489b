"""NAS-Bench-201's cell (Dong & Yang, ICLR 2020): a 4-node DAG with one op per edge.

Node 0 is the cell's input; node j (1..3) is the sum of one operation applied to every
earlier node i, on the edge named ``edge_j_i``; node 3 is the output. The six edges
each take one of NB201's five operations, so the cell has 5^6 = 15,625 variants.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from search_space.component import Block, Size
from search_space.layers.nb201_ops import OP_NAMES, make_op
from search_space.options import Option
from search_space.registry import register_block

NODES = 4
EDGES = tuple((j, i) for j in range(1, NODES) for i in range(j))  # (to, from), NB201's order


def edge_key(to: int, source: int) -> str:
    return f"edge_{to}_{source}"


def _edge_option(to: int, source: int) -> Option:
    return Option(
        str, "nor_conv_3x3", f"operation on the edge from node {source} to node {to}", OP_NAMES
    )


@register_block("nb201_cell")
class NB201Cell(Block):
    """node_j = sum over i < j of op_(j,i)(node_i); the cell returns node 3.

    Operations are NB201's: ``none`` (zeros), ``skip_connect``, ``nor_conv_1x1`` and
    ``nor_conv_3x3`` (ReLU-conv-BN), ``avg_pool_3x3`` (stride 1). Edges leaving node 0
    carry the block's stride and width change; the rest keep ``out_chs``.
    """

    OPTIONS: ClassVar[dict[str, Option]] = {edge_key(j, i): _edge_option(j, i) for j, i in EDGES}

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        stride: int = 1,
        *,
        input_size: Size,
        index: int = 0,
        shortcut: str = "conv",
        **edges: str,
    ):
        super().__init__()
        self.edges = nn.ModuleDict(
            {
                edge_key(j, i): make_op(
                    edges[edge_key(j, i)],
                    in_chs if i == 0 else out_chs,
                    out_chs,
                    stride if i == 0 else 1,
                )
                for j, i in EDGES
            }
        )

    @classmethod
    def summary_tag(cls, options: dict[str, str]) -> str:
        """The cell in one word, node by node: 'cell 3/33/s31' (0 none, s skip, 1 and 3
        the convs, p pool; node j lists the ops from nodes 0..j-1)."""
        letters = {op: op_letter for op, op_letter in zip(OP_NAMES, "0s13p")}
        nodes = ["".join(letters[options[edge_key(j, i)]] for i in range(j)) for j in (1, 2, 3)]
        return "cell " + "/".join(nodes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]  # (N, C_in, H, W), then (N, C_out, H', W') for nodes 1..3
        for j in range(1, NODES):
            nodes.append(sum(self.edges[edge_key(j, i)](nodes[i]) for i in range(j)))
        return nodes[-1]
