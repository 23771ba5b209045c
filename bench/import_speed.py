"""`import` of a ResNet-50-sized module (issue 14: under 3 s), side by side with what the same
module costs in plain PyTorch: building it and one forward pass on the same input (DESIGN §7).

Each repeat imports tests/engine/import_models/resnet.py's resnet50 (25.6 M parameters, 53 conv
layers, 16 Bottleneck blocks) in this process, from running the file to the checked outputs, and
times `resnet50()` plus one forward on the import's input size alongside. Figures are medians;
`ratio` is import / (build + forward).

    python bench/import_speed.py [--repeats 5] [--size 64]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch

from engine.importer import import_model
from engine.importer.source import load_source

SOURCE = str(ROOT / "tests" / "engine" / "import_models" / "resnet.py") + ":resnet50"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=64, help="input height and width")
    args = parser.parse_args()
    shape = f"3,{args.size},{args.size}"
    imports, plain = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = import_model(SOURCE, [shape])
        imports.append(time.perf_counter() - start)
        start = time.perf_counter()
        module = load_source(SOURCE).module
        with torch.no_grad():
            module(torch.randn(2, 3, args.size, args.size))
        plain.append(time.perf_counter() - start)
    a, b = statistics.median(imports), statistics.median(plain)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")
    print(f"resnet50: {len(result.project.graph.nodes)} nodes, {len(result.project.blocks)} blocks; "
          f"input {shape}; {args.repeats} repeats")
    print(f"import {a:.2f} s   build + forward {b:.2f} s   ratio {a / b:.1f}x")


if __name__ == "__main__":
    main()
