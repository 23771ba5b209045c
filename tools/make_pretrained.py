"""Trains the pretraining example (resources/examples/digits_pretrain.loom: digits 0-4) and writes its
weights to resources/examples/digits_pretrain.safetensors, the file the fine-tuning example
(digits_finetune.loom: 25 samples of digits 5-9) starts from. Made here, never downloaded; the
small file (~55 kB) is committed so that the example needs no run first.
Run: python tools/make_pretrained.py   (about 10 s on a CPU)"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.training import Finished, Trainer
from engine.training.checkpoint import save_weights
from graph.project import load

EXAMPLES = ROOT / "resources" / "examples"
DESIGN = EXAMPLES / "digits_pretrain.loom"
WEIGHTS = EXAMPLES / "digits_pretrain.safetensors"


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(load(DESIGN), base_dir=EXAMPLES, out_dir=Path(out), overrides={"device": "cpu"})
        result = trainer.run()
    if not isinstance(result, Finished):
        print(f"error: training {DESIGN.name} did not finish: {result}", file=sys.stderr)
        return 1
    save_weights(WEIGHTS, trainer.model.state_dict())
    print(f"wrote {WEIGHTS} (validation accuracy on digits 0-4: {result.final['val_accuracy']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
