"""Benchmark: the LayerLoom trainer with all live telemetry on vs a minimal hand-written loop.

Both train the same generated model (engine.codegen) on the same data, on the same device,
with the same optimiser, batch size and thread count, each epoch followed by a validation
pass. Runs are interleaved (the order alternates each repeat); the figure is samples/s
over whole epochs (training + validation), median over repeats, and the ratio
LayerLoom / hand-written (DESIGN §7). Target on CPU: ratio >= 0.95.

    python bench/trainer.py                       # the spiral MLP example, its 40 epochs per run
    python bench/trainer.py --example digits_cnn --epochs 5 --repeats 11 --device cuda
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch
import torch.nn.functional as F

from engine.codegen import build_model
from engine.training import Trainer
from graph.project import load

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "rmsprop": torch.optim.RMSprop}


def hand_written(model, train, val, epochs: int, batch: int, eval_batch: int, settings, device,
                 seed: int, classes_last: bool) -> tuple[float, float]:
    """The loop a PyTorch user writes by hand; samples/s over whole epochs (wall clock, CPU time)."""
    (x,), (y,) = train.inputs, train.targets
    (vx,), (vy,) = val.inputs, val.targets
    x, y, vx, vy = (t.to(device) for t in (x, y, vx, vy))
    extra = {"momentum": settings.momentum} if settings.optimizer in ("sgd", "rmsprop") else {}
    opt = OPTIMIZERS[settings.optimizer](model.parameters(), lr=settings.learning_rate,
                                         weight_decay=settings.weight_decay, **extra)

    def scores(out):
        return out.movedim(-1, 1) if classes_last else out

    gen = torch.Generator().manual_seed(seed)
    n = len(x)
    if device.type != "cpu":
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        model.train()
        total = 0.0
        perm = torch.randperm(n, generator=gen)
        if device.type != "cpu":
            perm = perm.to(device)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(scores(model(x[idx])), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
        model.eval()
        correct, val_loss = 0, 0.0
        with torch.no_grad():
            for i in range(0, len(vx), eval_batch):
                out = scores(model(vx[i:i + eval_batch]))
                val_loss += F.cross_entropy(out, vy[i:i + eval_batch], reduction="sum").item()
                correct += (out.argmax(1) == vy[i:i + eval_batch]).sum().item()
    if device.type != "cpu":
        torch.cuda.synchronize()
    return epochs * n / (time.perf_counter() - start), epochs * n / (time.process_time() - cpu)


def layerloom(project, epochs: int, device: str, base_dir: Path) -> tuple[float, float, Trainer, dict[str, int]]:
    """Samples/s of the trainer from its first step to its last epoch's end, all telemetry on."""
    marks: dict[str, float] = {}
    kinds: dict[str, int] = {}

    def on_event(e) -> None:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
        if e.kind == "run_started":
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            marks["start"], marks["start_cpu"] = time.perf_counter(), time.process_time()
        elif e.kind == "epoch_ended":
            marks["end"], marks["end_cpu"] = time.perf_counter(), time.process_time()

    # what the hand-written loop does not do is left out: a schedule, clipping, penalties (the user's
    # choices, which cost the same in both loops); telemetry stays on, at its defaults
    overrides = {"epochs": epochs, "device": device, "schedule": "none", "grad_clip_norm": None,
                 "l1_penalty": 0.0, "label_smoothing": 0.0, "telemetry": {"enabled": True, "activations": True}}
    trainer = Trainer(project, base_dir=base_dir, on_event=on_event, overrides=overrides)
    result = trainer.run()
    if result.kind != "finished":
        raise SystemExit(f"the trainer failed: {result.message}")
    samples = epochs * len(trainer.train_split)
    return (samples / (marks["end"] - marks["start"]), samples / (marks["end_cpu"] - marks["start_cpu"]),
            trainer, kinds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--example", default="spiral_mlp", help="an example in resources/examples (no .loom)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: the example's own)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    path = ROOT / "resources" / "examples" / f"{args.example}.loom"
    project = load(path)
    project.data = {k: v for k, v in project.data.items() if k != "augment"}  # the hand loop has none
    args.epochs = args.epochs or project.training.get("epochs", 20)

    # one warm-up run of each, so that imports and first calls are not timed
    _, _, trainer, _ = layerloom(project, 1, args.device, path.parent)
    s = trainer.settings
    threads, device = trainer.threads, trainer.device.device
    train, val = trainer.data.train, trainer.data.val
    targets = trainer.data.targets
    if len(targets) != 1 or targets[0].loss != "cross_entropy" or val is None or len(trainer.data.inputs) != 1:
        raise SystemExit("this benchmark's hand-written loop covers one cross_entropy Output with validation data")

    def fresh_model(seed: int):
        torch.manual_seed(seed)
        return build_model(project).to(device)

    def theirs_run(seed: int) -> tuple[float, float]:
        torch.set_num_threads(threads)
        return hand_written(fresh_model(seed), train, val, args.epochs, s.batch_size, trainer.eval_batch,
                            s, device, seed, targets[0].class_dim == "last")

    theirs_run(0)
    ours, theirs, ours_cpu, theirs_cpu, kinds = [], [], [], [], {}
    for r in range(args.repeats):
        order = ("ours", "theirs") if r % 2 == 0 else ("theirs", "ours")
        for who in order:
            if who == "ours":
                wall, cpu, _, kinds = layerloom(project, args.epochs, args.device, path.parent)
                ours.append(wall)
                ours_cpu.append(cpu)
            else:
                wall, cpu = theirs_run(r)
                theirs.append(wall)
                theirs_cpu.append(cpu)
    m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"LayerLoom trainer benchmark: {args.example}, {len(train):,} training + {len(val):,} validation samples, "
          f"batch {s.batch_size}, {args.epochs} epochs x {args.repeats} repeats (interleaved)")
    print(f"device {device} ({trainer.device.name}), torch threads {threads}, cores {os.cpu_count()}, "
          f"torch {torch.__version__}")
    print(f"telemetry per run: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}")
    print(f"{'samples/s':22}{'median':>12}{'min':>12}{'max':>12}{'median (CPU time)':>20}")
    for name, wall, cpu in (("LayerLoom trainer", ours, ours_cpu), ("hand-written loop", theirs, theirs_cpu)):
        print(f"{name:22}{statistics.median(wall):>12,.0f}{min(wall):>12,.0f}{max(wall):>12,.0f}"
              f"{statistics.median(cpu):>20,.0f}")
    print(f"ratio (LayerLoom / hand-written): {m_ours / m_theirs:.3f} wall clock, "
          f"{statistics.median(ours_cpu) / statistics.median(theirs_cpu):.3f} CPU time  (target >= 0.95)")
    # each repeat's two runs are back to back: their ratios cancel the machine's drift between repeats
    pairs = [a / b for a, b in zip(ours, theirs)]
    pairs_cpu = [a / b for a, b in zip(ours_cpu, theirs_cpu)]
    print(f"median of the repeats' own ratios: {statistics.median(pairs):.3f} wall clock (range {min(pairs):.2f}-"
          f"{max(pairs):.2f}), {statistics.median(pairs_cpu):.3f} CPU time; load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
