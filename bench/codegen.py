"""Generated code vs hand-written PyTorch, side by side in one run (DESIGN §7).

    python bench/codegen.py            # the full run (about two minutes on one core)
    python bench/codegen.py --quick    # a short run while developing

1. Training throughput (forward + backward, samples/s) of the module generated from a design
   and of the hand-written torch.nn equivalent in tests/engine/designs, with the same weights
   and inputs, for LeNet-5, ResNet-18 (at a small resolution) and the character LSTM. The two
   are timed in alternation, repeat by repeat, and each figure is a median over the repeats;
   `ratio` is generated / hand-written (1.0 = as fast, the target is >= 0.98).
2. The time to generate, compile and instantiate a ResNet-50-sized design (16 bottleneck
   blocks, about 25.6 M parameters).
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

from engine.codegen import generate_code, load_generated
from graph.analysis import analyse
from tests.engine.designs import DESIGNS, copy_weights, param_count
from tests.engine.designs.resnet import ResNet18, resnet18_project, resnet50_project

# design: project factory, hand-written factory, batch size, steps per timed sample
CASES = {
    "LeNet-5": (DESIGNS["lenet5"].project, DESIGNS["lenet5"].hand_written, 64, 10),
    "ResNet-18 64px": (lambda: resnet18_project(size=64), ResNet18, 16, 2),
    "char LSTM": (DESIGNS["char_lstm"].project, DESIGNS["char_lstm"].hand_written, 64, 10),
}


def train_steps(model: torch.nn.Module, inputs: tuple, steps: int) -> tuple[float, float]:
    """(wall, CPU) seconds for `steps` forward + backward passes."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        model(*inputs).square().mean().backward()
    return time.perf_counter() - wall, time.process_time() - cpu


def throughput(name: str, repeats: int, scale: float) -> tuple[float, float, float, float]:
    """Median samples/s of each (wall clock), and the median over repeats of the per-repeat
    ratio generated / hand-written, in wall-clock and in CPU time.

    Each repeat times the two back to back (in alternating order), so a ratio compares runs
    made under the same load; CPU time also leaves out the time other processes on a shared
    machine take from this one."""
    make_project, make_hand, batch, steps = CASES[name]
    steps = max(1, round(steps * scale))
    torch.manual_seed(0)
    module = load_generated(generate_code(make_project()))
    generated, hand = module.build_model(), make_hand()
    copy_weights(hand, generated)
    generated.train()
    hand.train()
    inputs = module.example_inputs(batch)
    for model in (generated, hand, generated, hand):  # warm up caches and the allocator
        train_steps(model, inputs, steps)
    speed: dict[str, list[float]] = {"generated": [], "hand": []}
    wall_ratios, cpu_ratios = [], []
    for r in range(repeats):
        order = [("generated", generated), ("hand", hand)]
        times = {label: train_steps(model, inputs, steps) for label, model in (order if r % 2 == 0 else order[::-1])}
        for label, (wall, _) in times.items():
            speed[label].append(batch * steps / wall)
        wall_ratios.append(times["hand"][0] / times["generated"][0])
        cpu_ratios.append(times["hand"][1] / times["generated"][1])
    return (statistics.median(speed["generated"]), statistics.median(speed["hand"]),
            statistics.median(wall_ratios), statistics.median(cpu_ratios))


def compile_times(repeats: int) -> dict[str, float]:
    """Medians, in seconds, of each stage for a ResNet-50-sized design."""
    stages: dict[str, list[float]] = {"build .loom graph": [], "analyse": [], "generate code": [],
                                      "compile (exec)": [], "instantiate": []}
    params = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        project = resnet50_project()
        t1 = time.perf_counter()
        analyse(project.graph)
        t2 = time.perf_counter()
        source = generate_code(project)  # analyses again: the figure includes inference
        t3 = time.perf_counter()
        module = load_generated(source + f"\n# run {time.perf_counter_ns()}\n")  # a fresh compile each time
        t4 = time.perf_counter()
        model = module.build_model()
        t5 = time.perf_counter()
        params = param_count(model)
        for stage, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            stages[stage].append(seconds)
    result = {stage: statistics.median(values) for stage, values in stages.items()}
    result["nodes"] = len(project.graph.nodes)
    result["lines"] = source.count("\n")
    result["params"] = params
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: shared machines)")
    parser.add_argument("--repeats", type=int, help="timed repeats per design (default 31, quick 5)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    repeats = args.repeats or (5 if args.quick else 31)
    scale = 0.5 if args.quick else 1.0

    print(f"torch {torch.__version__}, Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores, {torch.get_num_threads()} torch thread(s), device cpu")
    print(f"\nTraining throughput (samples/s), forward + backward, medians of {repeats} alternating repeats;")
    print("ratio = generated / hand-written speed, per repeat (wall clock and CPU time), median")
    print(f"{'design':<16}{'generated':>11}{'hand-written':>14}{'ratio wall':>12}{'ratio CPU':>11}")
    ratios = []
    for name in CASES:
        gen, ref, wall_ratio, cpu_ratio = throughput(name, repeats, scale)
        ratios.append(cpu_ratio)
        print(f"{name:<16}{gen:>11.1f}{ref:>14.1f}{wall_ratio:>12.3f}{cpu_ratio:>11.3f}")
    print(f"{'lowest CPU-time ratio':<53}{min(ratios):>11.3f}  (target >= 0.98)")

    times = compile_times(2 if args.quick else 5)
    print(f"\nResNet-50-sized design: {times['nodes']} nodes, {times['lines']} lines of code, "
          f"{times['params']:,} parameters (median of {2 if args.quick else 5})")
    for stage in ("build .loom graph", "analyse", "generate code", "compile (exec)", "instantiate"):
        print(f"  {stage:<34}{times[stage] * 1000:>9.1f} ms")
    total = times["generate code"] + times["compile (exec)"] + times["instantiate"]
    print(f"  {'generate + compile + instantiate':<34}{total * 1000:>9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
