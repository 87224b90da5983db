"""Self-attention over each comment's own tokens: padding never enters a comment's sums.

In a padded batch, transformers' attention sums over every position and masks the padding. The
masked terms are zeros, but the sums' length and order change with the batch's longest comment,
and so do the last bits of the result. Row-wise int8 (`workers.scoring.rowwise`) then rounds
those bits into different int8 values. Here attention runs comment by comment on its unpadded
tokens, the same call the comment gets alone, so a batch gives every comment its solo scores.
Padding positions come out as zeros. The Linear layers, layer norms and activations they pass
through treat each token alone, and no real token reads them.

Registered with transformers' attention and mask interfaces under `NAME`. The mask function
hands the [batch, tokens] padding mask through untouched, and the attention reads each
comment's length from it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface

NAME = "detoxify_unpadded"


def unpadded_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """query/key/value: [batch, heads, tokens, head size]; returns [batch, tokens, heads, size]."""
    batch, heads, tokens, size = query.shape
    if attention_mask is None:
        lengths = [tokens] * batch
    else:
        lengths = attention_mask.reshape(batch, -1).sum(dim=-1).tolist()
    out = query.new_zeros(batch, tokens, heads, size)
    for row, length in enumerate(lengths):
        # Contiguous copies: the kernel then sees the same strides as for the comment alone.
        own = slice(row, row + 1), slice(None), slice(0, length)
        attended = F.scaled_dot_product_attention(
            query[own].contiguous(),
            key[own].contiguous(),
            value[own].contiguous(),
            dropout_p=dropout if module.training else 0.0,
            scale=scaling,
        )
        out[row, :length] = attended[0].transpose(0, 1)
    return out, None


def _padding_mask(*, attention_mask: torch.Tensor | None = None, **kwargs: Any) -> Any:
    """The tokenizer's [batch, tokens] mask, as bools; None when nothing is padded."""
    return attention_mask


AttentionInterface.register(NAME, unpadded_attention)
AttentionMaskInterface.register(NAME, _padding_mask)


def attend_unpadded(model: Any) -> None:
    """Switch a transformers model (and its submodels) to `unpadded_attention`."""
    model.set_attn_implementation(NAME)
