"""Peak memory of one forward pass under no_grad (issue 13, item 3): the exported ResNet-18 against
the same model traced by torch.fx, whose generated forward frees each value after its last use.

Each figure comes from a fresh process: the peak resident size during forward() less the size
just before it (weights and inputs already allocated), so the figure is what the activations
take. Ratios to the traced model are printed side by side.

    python bench/forward_memory.py [--batch 32] [--size 224] [--design resources/examples/resnet18.loom ...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "resources" / "examples" / "resnet18.loom", ROOT / "tests" / "graph" / "designs" / "resnet18_flat.loom"]

_CHILD = r"""
import json, resource, sys
import torch
from engine.codegen import generate_code, load_generated
from graph.project import load

path, batch, size, traced = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
project = load(path)
project.graph.set_param("image", "shape", [3, size, size])
model = load_generated(generate_code(project)).build_model().eval()
if traced:
    model = torch.fx.symbolic_trace(model)
x = torch.randn(batch, 3, size, size)
torch.set_num_threads(1)
with torch.no_grad():
    model(x[:1])  # warm-up: lazy allocations of the first call are not activations

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

before = rss()
with torch.no_grad():
    model(x)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"mb": (peak - before) / 2**20}))
"""


def measure(path: Path, batch: int, size: int, traced: bool) -> float:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(batch), str(size), "1" if traced else "0"],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])["mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--design", type=Path, nargs="*", default=DEFAULT)
    args = parser.parse_args()
    print(f"peak activation memory of forward() under no_grad, batch {args.batch}, {args.size} px, CPU")
    for path in args.design:
        exported = measure(path, args.batch, args.size, traced=False)
        traced = measure(path, args.batch, args.size, traced=True)
        print(f"{path.name:28s} exported {exported:8.0f} MB   torch.fx traced {traced:8.0f} MB   "
              f"ratio {exported / traced:5.2f}")


if __name__ == "__main__":
    main()
