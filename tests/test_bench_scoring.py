"""`python -m bench.scoring`'s Hugging Face half runs end to end at toy sizes, so it doesn't rot:
checkpoints written by transformers' save_pretrained, loaded as a registry id in spawned
processes, timed int8 against fp32, and a worker child holding two models measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import scoring
from bench.comments import KOREAN_SENTENCES
from bench.hf_shapes import HF_SHAPES, KOREAN_BERT, build_hf_checkpoint, tiny
from tests.support.cpu import int8_suffix_here


def test_the_architectures_part_runs_at_toy_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    scoring.main(["--part", "architectures", "--tiny"])

    out = capsys.readouterr().out
    for shape in HF_SHAPES.values():
        row = next(line for line in out.splitlines() if line.startswith(f"| {shape.name}-tiny |"))
        assert "x** |" in row  # the int8 / fp32 ratio
    assert "`hf:bert-base-tiny@" in out and f"{int8_suffix_here()}`" in out
    assert "MB steady RSS**" in out
    assert "| after scoring 16 comments (steady) |" in out


def test_tiny_goes_only_with_the_architectures_part() -> None:
    with pytest.raises(SystemExit):
        scoring.main(["--tiny"])


def test_the_korean_checkpoint_tokenizes_hangul_word_by_word(tmp_path: Path) -> None:
    import transformers

    built = build_hf_checkpoint(tmp_path, tiny(KOREAN_BERT))
    tokenizer = transformers.AutoTokenizer.from_pretrained(built.path, local_files_only=True)

    tokens = tokenizer.tokenize(KOREAN_SENTENCES[0])
    assert tokens[:3] == ["기사", "잘", "읽었습니다"]
    assert tokenizer.unk_token not in tokens
