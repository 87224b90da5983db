"""The sizes of the published Detoxify models, for checkpoints built from random weights.

Same layers, widths and vocabulary sizes as the real models, so the same compute and memory.
Weights are drawn with std 0.04, roughly the spread of trained BERT-base linear layers; with
transformers' default 0.02 a random model scores every comment within +-0.01 of 0.5, which
hides the int8 error this benchmark reports.
"""

from __future__ import annotations

from workers.scoring.synthetic import ModelShape

INIT_STD = 0.04

SHAPES = {
    "original": ModelShape("bert-base", 768, 12, 12, 3072, 30_522, init_std=INIT_STD),
    "unbiased": ModelShape("roberta-base", 768, 12, 12, 3072, 50_265, init_std=INIT_STD),
    "multilingual": ModelShape("xlm-roberta-base", 768, 12, 12, 3072, 250_002, init_std=INIT_STD),
    "unbiased-small": ModelShape(
        "albert-base-v2", 768, 12, 12, 3072, 30_000, embedding_size=128, init_std=INIT_STD
    ),
}
