"""Text from a character language model: the prompt's ids in, one sampled character at a time out.

Qt-free, for `predict --generate` and the Predict panel's worker alike. The model sees at most its
Input's length (the training context): a longer text is cut to its last `context` characters, as
a causal model's positions only ever saw that many. Each step divides the last position's scores
by the temperature, keeps the `top_k` best (1: always the most likely, i.e. greedy) and draws from
a generator seeded once, so the same seed gives the same text.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch

from engine.inference.predictor import PredictError, Predictor


@dataclass(frozen=True)
class Sampling:
    temperature: float = 1.0
    top_k: int | None = None
    seed: int = 0

    def check(self) -> None:
        if not self.temperature > 0:
            raise PredictError(f"--temperature must be above 0, got {self.temperature:g} "
                               "(for the most likely character every time, use --top-k 1)")
        if self.top_k is not None and self.top_k < 1:
            raise PredictError(f"--top-k must be 1 or more, got {self.top_k}")


def sample_ids(logits: Callable[[torch.Tensor], torch.Tensor], prompt: Sequence[int], steps: int, context: int,
               sampling: Sampling = Sampling()) -> Iterator[int]:
    """Yield `steps` ids, each drawn from `logits(ids (1, L)) -> (1, L, V)` at the last position."""
    sampling.check()
    generator = torch.Generator().manual_seed(sampling.seed)
    ids = list(prompt)
    for _ in range(steps):
        window = torch.tensor([ids[-context:]], dtype=torch.int64)
        scores = logits(window)[0, -1].float().cpu() / sampling.temperature
        if sampling.top_k is not None and sampling.top_k < scores.numel():
            kth = torch.topk(scores, sampling.top_k).values[-1]
            scores = scores.masked_fill(scores < kth, float("-inf"))
        choice = int(torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=generator))
        ids.append(choice)
        yield choice


class TextModel:
    """A run's token model over a character vocabulary (the text data set's classes)."""

    def __init__(self, predictor: Predictor, vocabulary: Sequence[str] | None):
        specs = predictor.input_specs()
        if len(specs) != 1 or specs[0][2] != "int64" or len(specs[0][1]) != 1:
            raise PredictError("--generate needs a design with one int64 Input of token ids (L,), like the "
                               "tiny_gpt example")
        if len(predictor.output_ids) != 1:
            raise PredictError(f"--generate needs one Output of next-token scores, the design has "
                               f"{len(predictor.output_ids)}")
        shape = tuple(predictor.analysis.nodes[predictor.output_ids[0]].inputs[0])
        if len(shape) != 2 or shape[0] != specs[0][1][0]:
            raise PredictError(f"--generate needs the Output to score every position (L, vocabulary); "
                               f"'{predictor.output_ids[0]}' gets {shape}")
        if not vocabulary or any(len(c) != 1 for c in vocabulary):
            raise PredictError("--generate needs a model trained on characters (the text data set): the run's "
                               "data set has no character vocabulary")
        self.predictor, self.vocabulary = predictor, list(vocabulary)
        self.context = specs[0][1][0]
        self.ids = {c: i for i, c in enumerate(self.vocabulary)}

    def encode(self, prompt: str) -> list[int]:
        if not prompt:
            raise PredictError("--prompt is empty: give at least one character to start from")
        unknown = sorted({c for c in prompt if c not in self.ids})
        if unknown:
            raise PredictError(f"the prompt has characters the model never saw: {''.join(unknown)!r}; "
                               "use characters of its training text")
        return [self.ids[c] for c in prompt]

    def _logits(self, window: torch.Tensor) -> torch.Tensor:
        """Scores of the vocabulary's ids only: a head wider than the text's characters (tiny_gpt
        scores 128 ids for about 100) would otherwise draw ids no character stands for."""
        with torch.no_grad():
            return self.predictor.model(window.to(self.predictor.device))[..., :len(self.vocabulary)]

    def generate(self, prompt: str, steps: int, sampling: Sampling = Sampling()) -> Iterator[str]:
        """The next `steps` characters after `prompt`, one at a time."""
        for i in sample_ids(self._logits, self.encode(prompt), steps, self.context, sampling):
            yield self.vocabulary[i]
