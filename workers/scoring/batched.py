"""What the Detoxify and Hugging Face scorers share: a model and its tokenizer run over texts in
batches of similar length, each text's row rounded to 6 places by output name.

Imported only in worker children (after fork): it imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from workers.scoring.scorer import OutputKind

# What a tokenizer may hand the model; anything else (e.g. a tokenizer's own extras) is dropped.
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class BatchedScorer:
    """`score` for a model whose forward pass gives `.logits`; subclasses turn a batch's
    logits into its rows (`_rows`)."""

    outputs_are: OutputKind

    def __init__(
        self,
        *,
        model: torch.nn.Module,
        tokenizer: Any,
        labels: tuple[str, ...],
        model_id: str,
        max_tokens: int,
        device: torch.device,
        batch_size: int,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.model_id = model_id
        self._max_tokens = max_tokens
        self._device = device
        self._batch_size = batch_size

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        results: list[dict[str, float]] = [{} for _ in texts]
        # Similar lengths side by side keep padding small when batches hold several texts.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            indices = order[start : start + self._batch_size]
            rows = self._rows(self._logits([texts[i] for i in indices]))
            for index, row in zip(indices, rows, strict=True):
                results[index] = {
                    label: round(value, 6) for label, value in zip(self.labels, row, strict=True)
                }
        return results

    def _logits(self, texts: list[str]) -> list[list[float]]:
        encoded = self.tokenizer(
            texts,
            return_tensors="pt",
            truncation=True,
            max_length=self._max_tokens,
            padding=True,
        )
        inputs = {key: encoded[key].to(self._device) for key in MODEL_INPUTS if key in encoded}
        with torch.inference_mode():
            logits: list[list[float]] = self.model(**inputs).logits.float().cpu().tolist()
        return logits

    def _rows(self, logits: list[list[float]]) -> list[list[float]]:
        return logits
