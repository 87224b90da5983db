"""Row-wise dynamic int8 Linear layers: batches that score each comment exactly as alone.

torch.ao's `quantize_dynamic` gives a layer's whole input one activation scale, so in a batch a
comment's scores move with its neighbours' (by up to 0.05 on the bench model). Here each token
row gets its own scale (per-token activations, per-channel weights, both symmetric). The int8
product runs in oneDNN's prepacked kernel (AMX or VNNI where the CPU has them) with no scale
of its own, and the row scales are applied after it. Integer sums are exact, and the float steps
before and after treat each row alone. So a row's output is the same bits whatever rows share its
batch. Together with `workers.scoring.attention`, a comment's scores don't depend on its batch.

Batches pay on CPU because a forward pass reads every weight once: a batch of 8 reads the 85 MB
of BERT-base once for 8 comments instead of 8 times (bench/scoring.py: ~1.5x comments/s).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

# Activations travel as uint8 with this zero point: int8 -127..127 shifted to 1..255.
_ZERO_POINT = 128
_LEVELS = 127.0
# All-zero rows (a weight row, a padding token's activations): any positive scale gives zeros.
_SMALLEST_SCALE = 1e-12
# oneDNN compiles and caches a kernel per input shape: with the row count padded to a multiple
# of this (an AMX tile's height, so no extra work), a layer sees at most 8 x 256 / 16 = 128
# shapes (batches of 8, the default 256-token cap) however many comment lengths come, so the
# cache stops growing.
ROW_MULTIPLE = 16
_EMBEDDING_ROWS_AT_ONCE = 4096


class RowwiseInt8Linear(torch.nn.Module):
    """A `torch.nn.Linear` with int8 weights, scored one activation row's scale at a time."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        scale = weight.abs().amax(dim=1).clamp(min=_SMALLEST_SCALE) / _LEVELS
        quantized = torch.round(weight / scale[:, None]).clamp(-_LEVELS, _LEVELS).to(torch.int8)
        self.packed_weight = torch.ops.onednn.qlinear_prepack(quantized, None)
        self.weight_scale = scale.contiguous()
        self.weight_zero_point = torch.zeros(self.out_features, dtype=torch.int64)
        # A copy, never a view: the checkpoint's tensors may be a memory-mapped file that a view
        # would keep mapped (and resident) for the life of the process.
        self.bias = None if linear.bias is None else linear.bias.detach().float().clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        scale = rows.abs().amax(dim=1, keepdim=True).clamp(min=_SMALLEST_SCALE) / _LEVELS
        quantized = torch.round(rows / scale).add_(_ZERO_POINT).to(torch.uint8)
        count = quantized.shape[0]
        if extra := -count % ROW_MULTIPLE:
            # Zero rows (the zero point): they give zero products and are dropped below.
            quantized = F.pad(quantized, (0, 0, 0, extra), value=_ZERO_POINT)
        # (quantized - 128) @ weight.T, times the weight scales: the weight rows' part.
        product = torch.ops.onednn.qlinear_pointwise(
            quantized,
            1.0,
            _ZERO_POINT,
            self.packed_weight,
            self.weight_scale,
            self.weight_zero_point,
            None,
            1.0,
            0,
            torch.float32,
            "none",
            [],
            "",
        )[:count]
        out = product * scale if self.bias is None else torch.addcmul(self.bias, product, scale)
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 rows"


class RowwiseInt8Embedding(torch.nn.Module):
    """A `torch.nn.Embedding` stored as int8 with one scale per token: a quarter of the memory.

    The vocabulary is most of a model's weights that no product reads (BERT's 30,522 x 768 is
    94 MB as floats; XLM-R's 250,002 x 768 is 768 MB). A looked-up row is its own int8 values
    times its own scale: the same whatever else is looked up with it.
    """

    def __init__(self, embedding: torch.nn.Embedding) -> None:
        super().__init__()
        weight = embedding.weight.detach()
        self.num_embeddings, self.embedding_dim = weight.shape
        self.padding_idx = embedding.padding_idx
        self.quantized = torch.empty(weight.shape, dtype=torch.int8)
        self.scale = torch.empty(self.num_embeddings, 1)
        # A slice at a time: whole-table temporaries would add 3 GB to XLM-R's load peak.
        for start in range(0, self.num_embeddings, _EMBEDDING_ROWS_AT_ONCE):
            rows = weight[start : start + _EMBEDDING_ROWS_AT_ONCE].float()
            scale = rows.abs().amax(dim=1, keepdim=True).clamp(min=_SMALLEST_SCALE) / _LEVELS
            self.quantized[start : start + len(rows)] = torch.round(rows / scale).clamp_(
                -_LEVELS, _LEVELS
            )
            self.scale[start : start + len(rows)] = scale

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.quantized[ids].float() * self.scale[ids]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, int8 rows"


def rowwise_int8_works() -> bool:
    """Whether this torch build and CPU run the kernel, and run it exactly.

    oneDNN needs an x86 build, and its int8 path on CPUs without VNNI may saturate 16-bit
    partial sums: a product of extreme values must come out exact, or we don't use it.
    """
    try:
        generator = torch.Generator().manual_seed(0)
        linear = torch.nn.Linear(64, 32, bias=False)
        # Every row's largest value is 127, so every scale is 1 and the int8 values are these.
        with torch.no_grad():
            linear.weight.copy_(torch.randint(-127, 128, (32, 64), generator=generator).float())
            linear.weight[:, 0] = 127.0
            linear.weight[0] = 127.0  # with x[0]: the worst case for 16-bit partial sums
        x = torch.randint(-127, 128, (8, 64), generator=generator).float()
        x[:, 0] = 127.0
        x[0] = 127.0
        got = RowwiseInt8Linear(linear)(x)
    except (RuntimeError, AttributeError, NotImplementedError):
        return False
    exact = x.double() @ linear.weight.detach().double().T
    return bool(torch.equal(got.double(), exact))


def quantize_rowwise(module: torch.nn.Module) -> int:
    """Replace every Linear layer in place (shared layers once); how many were replaced.
    The token embeddings, see `quantize_token_embeddings`, are left to the caller."""
    replaced: dict[int, RowwiseInt8Linear] = {}
    for parent in list(module.modules()):
        # _modules, not named_children(): that skips a layer's second slot in the same parent.
        for name, child in list(parent._modules.items()):
            if type(child) is torch.nn.Linear:
                if id(child) not in replaced:
                    replaced[id(child)] = RowwiseInt8Linear(child)
                setattr(parent, name, replaced[id(child)])
    return len(replaced)


def quantize_token_embeddings(model: Any) -> None:
    """Store a transformers model's token (input) embeddings as `RowwiseInt8Embedding`."""
    embedding = model.get_input_embeddings()
    if type(embedding) is torch.nn.Embedding:
        model.set_input_embeddings(RowwiseInt8Embedding(embedding))
