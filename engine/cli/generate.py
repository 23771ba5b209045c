"""`python main.py predict FILE --run DIR --generate N --prompt TEXT [--temperature T] [--top-k K] [--seed S]`.

Prints the prompt, then each generated character as it comes (docs/predict.md, "Generating text").
The vocabulary is the run's data set's (the text data set's characters), read as training read it.
"""
from __future__ import annotations

import sys

from engine.cli.common import CommandError, analysed, load_project
from engine.cli.predict import _prepare
from engine.inference.generate import Sampling, TextModel
from engine.inference.predictor import PredictError, Predictor
from engine.inference.run import load_run


def run(path: str, run_dir: str | None, steps: int, prompt: str, temperature: float = 1.0, top_k: int | None = None,
        seed: int = 0) -> int:
    try:
        project = load_project(path)
    except CommandError as exc:
        raise CommandError(str(exc), code=1) from None
    if steps < 0:
        raise CommandError(f"--generate must be 0 or more characters, got {steps}")
    analysis = analysed(project)
    notes: list[str] = []
    try:
        weights = None
        if run_dir is not None:
            trained = load_run(run_dir, project)
            weights, notes = trained.weights, trained.notes
        prepared = _prepare(project, analysis, path, needed=True, notes=notes)
        predictor = Predictor(project, weights, analysis=analysis)
        model = TextModel(predictor, prepared.classes)
        sampling = Sampling(temperature, top_k, seed)
        sampling.check()
        model.encode(prompt)  # a bad prompt or setting is refused before anything is printed
        text = model.generate(prompt, steps, sampling)
        for note in predictor.notes + notes:
            print(f"note: {note}", file=sys.stderr)
        sys.stdout.write(prompt)
        for character in text:
            sys.stdout.write(character)
            sys.stdout.flush()
    except PredictError as exc:
        raise CommandError(str(exc)) from None
    sys.stdout.write("\n")
    return 0
