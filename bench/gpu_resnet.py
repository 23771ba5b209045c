"""Benchmark: the trainer against a hand-written loop on a GPU, ResNet-18 at 224 px, batch 256, SGD
with momentum, on a data set of uint8 images generated on the spot (DESIGN §7).

Modes: fp32 (TF32 on, the default), bf16 autocast + channels_last, and the same + torch.compile.
Per mode the hand loop trains the very module the trainer builds (engine.codegen) from uint8 images
kept on the GPU (a batch indexed, converted to float and scaled there), and the trainer runs twice:
with the data on the GPU (it fits), and with the data kept in host memory (as a data set too big for
the GPU is: batches gathered by threads into pinned buffers and copied on a side stream). Figures are
images/s over the training steps after a warm-up epoch (compiling, cuDNN's autotuning); the ratios
are against the hand loop of the same mode. Targets: data on the GPU >= 0.95 in every mode; host data
>= 0.90 of the trainer's on-GPU figure in fp32 and bf16.

    python bench/gpu_resnet.py                 # on CUDA: the full table, well under 5 minutes
    python bench/gpu_resnet.py --device cpu    # the logic on a small model, in seconds (also without CUDA)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import torch
import torch.nn.functional as F

import engine.training.device as placement
from engine.codegen import build_model
from engine.data.registry import DatasetType, Raw, register
from engine.training import Trainer
from engine.training.accelerate import compiled, configure_cuda
from graph.project import Project, load

MODES = {"fp32": {}, "bf16+cl": {"mixed_precision": "bf16", "channels_last": True},
         "bf16+cl+compile": {"mixed_precision": "bf16", "channels_last": True, "compile": True}}
_DATA: dict[str, tuple[np.ndarray, ...]] = {}


def make_data(n_train: int, n_val: int, shape: tuple[int, ...], classes: int) -> None:
    """Random uint8 images (a pool of 512 repeated: the content does not change the speed) and labels."""
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, (min(512, n_train), *shape), dtype=np.uint8)
    x = np.concatenate([pool] * (-(-n_train // len(pool))))[:n_train]
    vx = pool[:n_val].copy()
    _DATA["set"] = (x, rng.integers(0, classes, n_train), vx, rng.integers(0, classes, n_val))


def _bench_images(options, ctx) -> Raw:
    x, y, vx, vy = _DATA["set"]
    return Raw([x], [y], [str(i) for i in range(int(y.max()) + 1)], val=([vx], [vy]), scales=[1 / 255])


register(DatasetType("bench_images", "generated", "bench/gpu_resnet.py's uint8 images", "x (3, H, W) uint8",
                     _bench_images))


def design(example: str) -> tuple[Project, tuple[int, ...], int]:
    """The example's design on the generated images; its input shape and class count."""
    project = load(ROOT / "resources" / "examples" / f"{example}.loom")
    project.data = {"dataset": "bench_images"}
    shape = tuple(next(n for n in project.graph.nodes if n.type == "Input").params["shape"])
    linear = [n for n in project.graph.nodes if n.type == "Linear"][-1]
    return project, shape, int(linear.params["out_features"])


def hand_loop(project: Project, mode: dict, batch: int, warmup: int, steps: int, device: torch.device) -> float:
    """The loop a PyTorch user writes: uint8 images on the GPU, a batch indexed, made float and scaled,
    forward, loss, backward, step; the losses summed on the device and read once. Images/s."""
    x_np, y_np, _, _ = _DATA["set"]
    x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)
    torch.manual_seed(0)
    model = build_model(project).to(device)
    if mode.get("channels_last"):
        model = model.to(memory_format=torch.channels_last)
    forward = compiled(model) if mode.get("compile") else model
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    dtype = torch.bfloat16 if mode.get("mixed_precision") == "bf16" else None
    n, total = len(x), torch.zeros((), device=device)

    def step(idx: torch.Tensor) -> None:
        nonlocal total
        xb = x[idx].float().mul_(1 / 255)
        if mode.get("channels_last"):
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = F.cross_entropy(forward(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total = total + loss.detach()

    perm = torch.randperm(n, device=device)
    model.train()
    for k in range(warmup):
        step(perm[(k * batch) % (n - batch + 1):][:batch])
    _sync(device)
    start = time.perf_counter()
    for k in range(steps):
        step(perm[(k * batch) % (n - batch + 1):][:batch])
    total.item()
    _sync(device)
    return steps * batch / (time.perf_counter() - start)


def trainer_run(project: Project, mode: dict, batch: int, epochs: int, device: torch.device,
                on_device: bool, telemetry: bool) -> tuple[float, str]:
    """The trainer's images/s over the epochs after the first, and where its training data lay."""
    overrides = {"epochs": epochs, "batch_size": batch, "eval_batch_size": batch, "optimizer": "sgd",
                 "learning_rate": 0.01, "momentum": 0.9, "device": str(device), "schedule": "none",
                 "telemetry": {"enabled": telemetry}, **mode}
    rates: list[float] = []

    def on_event(e) -> None:
        if e.kind == "epoch_ended" and e.epoch > 1:
            rates.append(e.samples_per_s)

    share = placement.DEVICE_DATA_SHARE
    placement.DEVICE_DATA_SHARE = share if on_device else 0.0   # as if the data did not fit
    try:
        trainer = Trainer(project, overrides=overrides, on_event=on_event)
        result = trainer.run()
    finally:
        placement.DEVICE_DATA_SHARE = share
    if result.kind != "finished":
        raise SystemExit(f"the trainer failed: {result.message}")
    where = str(trainer.train_split.inputs[0].device)
    return statistics.mean(rates), f"{where} {str(trainer.train_split.inputs[0].dtype).replace('torch.', '')}"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def graphs() -> int:
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--modes", default=None, help=f"comma-separated, of {', '.join(MODES)} (default: all; "
                        "on the CPU all but compile)")
    parser.add_argument("--telemetry", choices=("on", "off"), default="on")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    device = torch.device(args.device)
    gpu = device.type == "cuda"
    # on a GPU the setting; on the CPU a small model that checks the logic in seconds
    example, batch, steps_per_epoch, epochs = ("resnet18", 256, 40, 3) if gpu else ("digits_cnn", 32, 8, 2)
    warmup, timed = (10, 40) if gpu else (2, 8)
    modes = args.modes.split(",") if args.modes else [m for m in MODES if gpu or "compile" not in m]
    if gpu:
        configure_cuda(True)
    project, shape, classes = design(example)
    make_data(batch * steps_per_epoch, 2 * batch, shape, classes)
    x = _DATA["set"][0]
    started = time.perf_counter()
    print(f"{example} {shape}, batch {batch}, SGD momentum 0.9; {len(x):,} uint8 training images "
          f"({x.nbytes / 1e9:.2f} GB; {x.nbytes * 4 / 1e9:.2f} GB as float32), {epochs} epochs of "
          f"{steps_per_epoch} steps per trainer run (the first not timed); telemetry {args.telemetry}")
    name = torch.cuda.get_device_name(device) if gpu else f"CPU, {torch.get_num_threads()} threads"
    print(f"device {device} ({name}), cores {os.cpu_count()}, torch {torch.__version__}")
    print(f"{'mode':18}{'hand, GPU data':>16}{'trainer, GPU data':>22}{'trainer, host data':>26}  graphs")
    rows = {}
    for mode_name in modes:
        mode = MODES[mode_name]
        before = graphs()
        hand = hand_loop(project, mode, batch, warmup, timed, device)
        mid = graphs()
        try:
            ours, where = trainer_run(project, mode, batch, epochs, device, True, args.telemetry == "on")
            host, host_where = trainer_run(project, mode, batch, epochs, device, False, args.telemetry == "on")
        except (Exception, SystemExit) as exc:  # noqa: BLE001 -- report the cell, go on with the next mode
            print(f"{mode_name:18}{hand:>16,.0f}  trainer failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        rows[mode_name] = {"hand": hand, "trainer_device": ours, "trainer_host": host,
                           "ratio_device": ours / hand, "ratio_host_to_device": host / ours,
                           "data": [where, host_where], "graphs": [mid - before, graphs() - mid]}
        print(f"{mode_name:18}{hand:>16,.0f}{ours:>14,.0f} = {ours / hand:.2f}"
              f"{host:>16,.0f} = {host / ours:.2f} ({host / hand:.2f})  {mid - before}/{graphs() - mid}"
              f"   [{where}; {host_where}]", flush=True)
    print("ratios: trainer / hand loop with GPU data (target >= 0.95); host data / the trainer's GPU-data "
          "figure (target >= 0.90 in fp32 and bf16), in brackets / the hand loop")
    print(f"graphs: torch.compile graphs made by the hand loop / both trainer runs; {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
