"""`export FILE --training-script -o train.py`: the design's training program written out as plain PyTorch.

The script is the textbook loop (forward, loss, backward, step) for a learner to read: the model code as
`export -o model.py` writes it, the settings of the design's `training` section as constants, the data
read from `train.npz` beside it (prepared as the trainer prepares them: split, standardised), then the
loss, optimiser, schedule, regularisation, early stopping and mixed precision the design sets. It imports
only torch, numpy and the standard library (safetensors when installed), and runs alike as
`python train.py` and as `torchrun --nproc_per_node N train.py` (DESIGN §4).

It trains what `train` trains: the same initial weights (seeded before the model is built), the same
order of batches (a generator of the same seed), the same update. What the trainer does beyond the loop
(live statistics, checkpoints, the run folder, augmentation, initial weights) is not written out; the
export names what it leaves out.
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.codegen import CodegenError, generate_code
from engine.data import DataError, Prepared, prepare_data
from engine.data.prepare import TargetSpec
from engine.training.events import TrainingError
from engine.training.settings import TrainingSettings, parse_training
from graph.analysis import Analysis, analyse
from graph.files import write_atomic, write_atomic_with
from graph.project import Project

DATA_NAME = "train.npz"
DATA_MARK = "layerloom-training-data"      # train.npz's `format` entry: a file LayerLoom wrote

IMPORTS = ["import argparse", "import os", "from pathlib import Path", "", "import numpy as np", "import torch",
           "import torch.distributed as dist", "import torch.nn.functional as F", "from torch import nn"]


class ScriptError(ValueError):
    """A design whose training cannot be written out (a GAN, bad settings or data); the message says why."""


@dataclass
class Written:
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- the loss and the metric of each trained Output, as code -----------------------------------------------------
def _scores(out: str, spec: TargetSpec) -> str:
    return f"{out}.movedim(-1, 1)" if spec.class_dim == "last" else out


def loss_code(spec: TargetSpec, out: str, y: str, s: TrainingSettings) -> str:
    """One Output's loss as an expression, as engine.training.losses computes it."""
    smoothing = f", label_smoothing={s.label_smoothing!r}" if s.label_smoothing else ""
    return {
        "cross_entropy": f"F.cross_entropy({_scores(out, spec)}, {y}{smoothing})",
        "nll": f"F.nll_loss({_scores(out, spec)}, {y})",
        "mse": f"F.mse_loss({out}, {y})",
        "l1": f"F.l1_loss({out}, {y})",
        "huber": f"F.huber_loss({out}, {y}, delta={s.huber_delta!r})",
        "smooth_l1": f"F.smooth_l1_loss({out}, {y}, beta={s.huber_delta!r})",
        "bce_with_logits": f"F.binary_cross_entropy_with_logits({out}, {y})",
        "bce": f"probability_loss({out}, {y})",
        "kl_div": f"F.kl_div({out}, {y}, reduction='batchmean')",
        "poisson_nll": f"F.poisson_nll_loss({out}, {y})",
        "gaussian_nll": f"gaussian_nll({out}, {y})",
        "cosine_embedding": f"cosine_loss({out}, {y})",
    }[spec.loss]


HELPERS = {
    "bce": ['def probability_loss(out, y):',
            '    """Binary cross-entropy of probabilities, in float32 with autocast off (torch refuses it in half',
            '    precision)."""',
            '    with torch.autocast(out.device.type, enabled=False):',
            '        return F.binary_cross_entropy(out.float(), y.float())'],
    "gaussian_nll": ['def gaussian_nll(out, y):',
                     '    """The last dimension\'s halves: the mean, and the variance before a softplus."""',
                     '    mean, raw = out.chunk(2, dim=-1)',
                     '    return F.gaussian_nll_loss(mean, y, F.softplus(raw))'],
    "cosine_embedding": ['def cosine_loss(out, y):',
                         '    """1 - cos(output, target) over the last dimension."""',
                         '    flat, target = out.reshape(-1, out.shape[-1]), y.reshape(-1, y.shape[-1])',
                         '    return F.cosine_embedding_loss(flat, target, flat.new_ones(len(flat)))'],
}


def metric_code(spec: TargetSpec, out: str, y: str) -> tuple[str, str]:
    """(name, expression of the per-element values summed into the metric) for one Output."""
    if spec.task == "classification":
        if spec.loss == "bce_with_logits":
            return "accuracy", f"(({out} > 0) == ({y} > 0.5))"
        if spec.loss == "bce":
            return "accuracy", f"(({out} > 0.5) == ({y} > 0.5))"
        if spec.loss == "kl_div":
            return "accuracy", f"({_scores(out, spec)}.argmax(1) == {_scores(y, spec)}.argmax(1))"
        return "accuracy", f"({_scores(out, spec)}.argmax(1) == {y})"
    if spec.loss == "cosine_embedding":
        return "cosine", f"F.cosine_similarity({out}.float(), {y}, dim=-1)"
    point = {"poisson_nll": f"{out}.exp()", "gaussian_nll": f"{out}.chunk(2, dim=-1)[0]"}.get(spec.loss, out)
    return "mae", f"({point}.float() - {y}).abs()"


# -- the script ----------------------------------------------------------------------------------------------
def _model_code(project: Project, analysis: Analysis) -> tuple[str, list[str]]:
    """The exported model's code without its docstring, imports and `__main__` block, and its imports."""
    source = generate_code(project, analysis=analysis)
    source = source[:source.index('\nif __name__ == "__main__":')].rstrip() + "\n"
    tree = ast.parse(source)
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    lines = source.splitlines()
    imports = [ast.get_source_segment(source, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    start = body[0].lineno - 1 - len(getattr(body[0], "decorator_list", []))
    return "\n".join(lines[start:]).rstrip() + "\n", [i for i in imports if i]


def _settings_block(s: TrainingSettings, epochs: int) -> list[str]:
    seed = "int.from_bytes(os.urandom(4), 'little')  # training.seed is null: a new seed each run" \
        if s.seed is None else repr(s.seed)
    lines = ["# -- the design's training settings ---------------------------------------------------------",
             f"EPOCHS = {epochs}", f"BATCH_SIZE = {s.batch_size}",
             f"EVAL_BATCH_SIZE = {s.eval_batch_size or max(s.batch_size * 4, 256)}",
             f"LEARNING_RATE = {s.learning_rate!r}", f"SEED = {seed}", (f"MIXED_PRECISION = {s.mixed_precision!r}"
             "  # off, auto (bf16, else fp16, on CUDA), bf16 or fp16")]
    if s.grad_clip_norm:
        lines.append(f"GRAD_CLIP_NORM = {s.grad_clip_norm!r}")
    if s.l1_penalty:
        lines.append(f"L1_PENALTY = {s.l1_penalty!r}")
    es = s.early_stopping
    if es is not None:
        lines += [f"PATIENCE = {es.patience}  # early stopping: epochs without a better watched loss",
                  f"MIN_DELTA = {es.min_delta!r}", f"RESTORE_BEST = {es.restore_best!r}"]
    return lines


def _optimizer(s: TrainingSettings) -> str:
    args = ["params", "lr=LEARNING_RATE"]
    if s.optimizer in ("adam", "adamw"):
        if s.betas != (0.9, 0.999):
            args.append(f"betas={s.betas!r}")
        if s.eps != 1e-8:
            args.append(f"eps={s.eps!r}")
    if s.optimizer in ("sgd", "rmsprop") and s.momentum:
        args.append(f"momentum={s.momentum!r}")
    if s.nesterov:
        args.append("nesterov=True")
    if s.optimizer == "rmsprop":
        args += [f"alpha={s.alpha!r}", f"eps={s.eps!r}"]
    if s.weight_decay or s.optimizer == "adamw":
        args.append(f"weight_decay={s.weight_decay!r}")
    name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}[s.optimizer]
    return f"torch.optim.{name}({', '.join(args)})"


def _schedule(s: TrainingSettings) -> tuple[str | None, str]:
    """(the scheduler's construction, when it steps: "step", "epoch" or "loss")."""
    o, kind = s.schedule.options, s.schedule.type
    lr = "torch.optim.lr_scheduler"
    if kind == "step":
        return f"{lr}.StepLR(optimizer, step_size={o['step_size']}, gamma={o['gamma']!r})", "epoch"
    if kind == "cosine":
        return f"{lr}.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch, eta_min={o['min_lr']!r})", "step"
    if kind == "one_cycle":
        return (f"{lr}.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=epochs * steps_per_epoch, "
                f"pct_start={o['pct_start']!r}, div_factor={o['div_factor']!r}, "
                f"final_div_factor={o['final_div_factor']!r})"), "step"
    if kind == "plateau":
        return (f"{lr}.ReduceLROnPlateau(optimizer, factor={o['factor']!r}, patience={o['patience']}, "
                f"threshold={o['threshold']!r}, min_lr={o['min_lr']!r})"), "loss"
    return None, ""


def render(project: Project, analysis: Analysis, data: Prepared, s: TrainingSettings) -> str:
    """The script's text."""
    model_code, model_imports = _model_code(project, analysis)
    outputs = [n.id for n in project.graph.outputs()]
    inputs = [spec.node for spec in data.inputs]
    targets = data.targets
    trained = [t.node for t in targets]
    helpers = [HELPERS[t.loss] for t in targets if t.loss in HELPERS]
    imports = IMPORTS[:5] + [i for i in model_imports if i.startswith("import ") and i not in IMPORTS] + IMPORTS[5:]
    frozen = [n.id for n in project.graph.nodes if not n.trainable]
    scheduler, when = _schedule(s)
    scored = (f"outputs[{outputs.index(t)}]" if len(outputs) > 1 else "outputs" for t in trained)
    pairs = list(zip(targets, scored, (f"targets[{k}]" for k in range(len(targets)))))
    terms = [(f"{s.loss_weights[t.node]!r} * " if s.loss_weights.get(t.node, 1.0) != 1.0 else "")
             + loss_code(t, out, y, s) for t, out, y in pairs]
    many = len(targets) > 1
    metrics = [(f"{t.node}." if many else "") + metric_code(t, out, y)[0] for t, out, y in pairs]
    metric_terms = [metric_code(t, out, y)[1] for t, out, y in pairs]
    L = []
    add = L.append
    add(f'"""{project.name}: its training program, written out by LayerLoom as plain PyTorch.')
    add("")
    add("    python train.py [--epochs N] [--device auto|cpu|cuda|cuda:K|mps] [--out DIR]")
    add("    torchrun --nproc_per_node 2 train.py      # 2 processes: gloo on CPUs, NCCL on GPUs (one each)")
    add("")
    add(f"The data are {DATA_NAME} beside this file, prepared as LayerLoom prepares them (split, standardised).")
    add("The trained weights go to DIR/weights.safetensors (DIR/weights.pt without the safetensors package),")
    add("keyed like build_model()'s state_dict.")
    add('"""')
    L += imports
    add("")
    add("")
    add("# -- the model (what `export -o model.py` writes) -----------------------------------------------------")
    L += model_code.rstrip().splitlines()
    add("")
    add("")
    L += _settings_block(s, s.epochs)
    add(f"INPUTS = {inputs!r}  # the model's inputs, in {DATA_NAME} as train_<name> and val_<name>")
    add(f"TARGETS = {trained!r}  # the targets of the Outputs trained")
    if frozen:
        add(f"FROZEN = {frozen!r}  # layers whose weights stay as they are")
    add("")
    add("")
    for helper in helpers:
        L += helper + ["", ""]
    add("def compute_loss(outputs, targets):")
    add('    """The loss the design trains: each trained Output\'s loss, summed."""')
    add(f"    return {' + '.join(terms)}")
    add("")
    add("")
    add("def metric_sums(outputs, targets):")
    add(f'    """Per trained Output, the sum and the count of its metric ({", ".join(metrics)})."""')
    add("    sums = []")
    for term in metric_terms:
        add(f"    values = {term}")
        add("    sums += [values.sum().double(), values.numel()]")
    add("    return sums")
    add("")
    add("")
    L += _program(s, scheduler, when, frozen, metrics)
    return "\n".join(L) + "\n"


def _program(s: TrainingSettings, scheduler: str | None, when: str, frozen: list[str],
             metrics: list[str]) -> list[str]:
    """setup, the data, evaluation, saving and the loop, as lines."""
    amp = s.mixed_precision != "off"
    return [*SETUP.splitlines(), *(PRECISION.splitlines() if amp else []), *_evaluate(amp), *SAVE.splitlines(),
            *_main(s, scheduler, when, frozen, metrics, amp)]


def _forward(indent: str, net: str, amp: bool) -> list[str]:
    lines = [f"outputs = {net}(*xs)" + ("                       # forward" if net == "net" else ""),
             "loss = compute_loss(outputs, ys)" + ("       # loss" if net == "net" else "")]
    if amp:
        return [indent + "with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):"] + [
            indent + "    " + line for line in lines]
    return [indent + line for line in lines]


def _evaluate(amp: bool) -> list[str]:
    return [
        "@torch.no_grad()",
        f"def evaluate(model, split, rank, world, device{', amp_dtype' if amp else ''}):",
        '    """The loss and metrics of a split: each process scores every world-th sample, and the sums of all',
        '    processes are added up."""',
        "    model.eval()",
        "    inputs = [x[rank::world] for x in split[0]]",
        "    targets = [y[rank::world] for y in split[1]]",
        "    sums = [0.0] * (2 + 2 * len(TARGETS))   # loss x samples, samples, then each metric's sum and count",
        "    for start in range(0, len(inputs[0]), EVAL_BATCH_SIZE):",
        "        xs = [x[start:start + EVAL_BATCH_SIZE] for x in inputs]",
        "        ys = [y[start:start + EVAL_BATCH_SIZE] for y in targets]",
        *_forward("        ", "model", amp),
        "        batch = [loss.item() * len(xs[0]), len(xs[0])] + [float(v) for v in metric_sums(outputs, ys)]",
        "        sums = [a + b for a, b in zip(sums, batch)]",
        "    model.train()",
        "    sums = total(sums, world, device)",
        "    return sums[0] / max(sums[1], 1), [sums[k] / max(sums[k + 1], 1) for k in range(2, len(sums), 2)]",
        "", ""]


def _main(s: TrainingSettings, scheduler: str | None, when: str, frozen: list[str], metrics: list[str],
          amp: bool) -> list[str]:
    es = s.early_stopping
    scaled = amp and s.mixed_precision in ("fp16", "auto")
    L = ['def main():',
         '    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])',
         '    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the training data")',
         '    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:K or mps")',
         '    parser.add_argument("--out", default=".", help="the folder for the trained weights")',
         '    args = parser.parse_args()',
         '    epochs = args.epochs',
         '    device, rank, world = setup(args.device)',
         '',
         '    torch.manual_seed(SEED)                       # the same first weights in every process',
         '    model = build_model().to(device)']
    if frozen:
        L += ['    for name in FROZEN:',
              '        getattr(model, name).requires_grad_(False)']
    L += ['    params = [p for p in model.parameters() if p.requires_grad]',
          '    # several processes: DDP averages the gradients of their parts of each batch in backward()',
          '    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model',
          '    (inputs, targets), val = load_data(device)',
          '    n = len(inputs[0])',
          '    if 0 < n % BATCH_SIZE < 2 * world:              # a last batch too small to share is left out',
          '        n -= n % BATCH_SIZE',
          *(['    steps_per_epoch = -(-n // BATCH_SIZE)'] if when == "step" else []),
          f'    optimizer = {_optimizer(s)}']
    if s.l1_penalty:
        L.append('    l1_weights = [p for name, p in model.named_parameters() if p.requires_grad and '
                 'name.endswith("weight")]')
    if scheduler:
        L.append(f'    scheduler = {scheduler}')
    if amp:
        L.append('    amp_dtype = precision(device)')
    if scaled:
        L.append('    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)')
    L += ['    order = torch.Generator().manual_seed(SEED)    # the same order of samples in every process']
    if es is not None:
        L.append('    best, best_epoch, bad_epochs, best_state, stopped_early = float("inf"), 0, 0, None, False')
    L += ['',
          '    for epoch in range(1, epochs + 1):',
          '        model.train()',
          '        shuffled = torch.randperm(len(inputs[0]), generator=order).to(device)',
          '        loss_sum, seen = 0.0, 0',
          '        for start in range(0, n, BATCH_SIZE):',
          '            batch = shuffled[start:min(start + BATCH_SIZE, n)][rank::world]   # this process\'s part',
          '            xs = [x[batch] for x in inputs]',
          '            ys = [y[batch] for y in targets]',
          *_forward("            ", "net", amp)]
    if s.l1_penalty:
        L.append('            loss = loss + L1_PENALTY * sum(w.abs().sum() for w in l1_weights)')
    L.append('            optimizer.zero_grad()')
    if scaled:
        L.append('            scaler.scale(loss).backward()')
        if s.grad_clip_norm:
            L += ['            scaler.unscale_(optimizer)',
                  '            torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP_NORM)']
        L += ['            scaler.step(optimizer)', '            scaler.update()']
    else:
        L.append('            loss.backward()                        # backward: the gradients')
        if s.grad_clip_norm:
            L.append('            torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP_NORM)')
        L.append('            optimizer.step()                       # step: the update')
    if when == "step":
        L.append('            scheduler.step()')
    L += ['            loss_sum += loss.item() * len(batch)',
          '            seen += len(batch)',
          '        loss_sum, seen = total([loss_sum, seen], world, device)',
          '        watched = train_loss = loss_sum / seen',
          '        line = f"epoch {epoch}/{epochs}  train loss {train_loss:.4f}"',
          '        if val is not None:',
          f'            watched, figures = evaluate(model, val, rank, world, device{", amp_dtype" if amp else ""})',
          '            line += f"  val loss {watched:.4f}"',
          f'            for name, value in zip({metrics!r}, figures):',
          ('                line += f"  val {name} {value:.2%}" if name.endswith("accuracy") else '
          'f"  val {name} {value:.4g}"')]
    if when == "epoch":
        L.append('        scheduler.step()')
    elif when == "loss":
        L.append('        scheduler.step(watched)')
    L += ['        if rank == 0:',
          '            print(line, flush=True)']
    if es is not None:
        L += ['        if watched < best - MIN_DELTA:                 # early stopping watches this loss',
              '            best, best_epoch, bad_epochs = watched, epoch, 0',
              '            if RESTORE_BEST:',
              '                best_state = {k: v.clone() for k, v in model.state_dict().items()}',
              '        else:',
              '            bad_epochs += 1',
              '            if bad_epochs >= PATIENCE:',
              '                stopped_early = True',
              '                break',
              '    if stopped_early and best_state is not None and best_epoch != epoch:',
              '        model.load_state_dict(best_state)',
              '        if rank == 0:',
              '            print(f"early stopping: restored the weights of epoch {best_epoch}, the best")']
    L += ['',
          '    if rank == 0:',
          '        print(f"wrote {save(model, args.out)}")',
          '    if world > 1:',
          '        dist.destroy_process_group()',
          '',
          '',
          'if __name__ == "__main__":',
          '    main()']
    return L


SETUP = """def setup(device_name):
    \"\"\"The device, and this process's place (rank) among `world` processes: torchrun sets RANK and
    WORLD_SIZE; run as `python train.py` this process is the only one.\"\"\"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    device = torch.device(device_name)
    if device.type == "cuda" and world > 1:           # one GPU per process
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device, rank, world


def load_data(device):
    \"\"\"The prepared data beside this file: (inputs, targets) of the training split and of the validation
    split (None when the design keeps none).\"\"\"
    data = np.load(Path(__file__).with_name("train.npz"))

    def split(name):
        if f"{name}_{TARGETS[0]}" not in data:
            return None
        return ([torch.from_numpy(data[f"{name}_{key}"]).to(device) for key in INPUTS],
                [torch.from_numpy(data[f"{name}_{key}"]).to(device) for key in TARGETS])

    return split("train"), split("val")


def total(values, world, device):
    \"\"\"Numbers summed over all processes (each has its own part of the data).\"\"\"
    if world == 1:
        return values
    values = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(values)
    return values.tolist()


"""

PRECISION = """def precision(device):
    \"\"\"The dtype of autocast that MIXED_PRECISION asks for on this device; None for full precision.\"\"\"
    if MIXED_PRECISION == "off" or (MIXED_PRECISION == "auto" and device.type != "cuda"):
        return None
    if MIXED_PRECISION == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float16 if MIXED_PRECISION == "fp16" else torch.bfloat16


"""

SAVE = """def save(model, folder):
    \"\"\"The trained weights, keyed like build_model()'s state_dict: weights.safetensors (weights.pt without
    the safetensors package).\"\"\"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        torch.save(state, folder / "weights.pt")
        return folder / "weights.pt"
    save_file(state, str(folder / "weights.safetensors"))
    return folder / "weights.safetensors"


"""


# -- writing it ----------------------------------------------------------------------------------------------
def write_training_script(project: Project, out: str | os.PathLike, base_dir: str | os.PathLike = ".",
                          analysis: Analysis | None = None) -> Written:
    """Write the script to `out` and the prepared data to train.npz beside it; raises ScriptError."""
    out = Path(out)
    analysis = analysis or analyse(project.graph)
    try:
        s = parse_training(project.training or {}, [n.id for n in project.graph.outputs()])
    except TrainingError as exc:
        raise ScriptError(str(exc)) from None
    if s.mode != "supervised":
        raise ScriptError(f"training.mode {s.mode!r}: the training script is written for supervised training "
                          "only; train it with `python main.py train`")
    try:
        data = prepare_data(project.data, project.graph, analysis, base_dir)
        text = render(project, analysis, data, s)
    except (DataError, TrainingError) as exc:
        raise ScriptError(str(exc)) from None
    except CodegenError as exc:
        raise ScriptError(f"the design cannot be compiled: {exc}") from None
    data_path = out.parent / DATA_NAME
    _check_ours(data_path)
    arrays = {"format": np.array(DATA_MARK)}
    for name, split in (("train", data.train), ("val", data.val)):
        if split is None:
            continue
        for spec, tensor in zip(data.inputs, split.inputs):
            arrays[f"{name}_{spec.node}"] = tensor.cpu().numpy()
        for spec, tensor in zip(data.targets, split.targets):
            arrays[f"{name}_{spec.node}"] = tensor.cpu().numpy()
    write_atomic_with(data_path, lambda tmp: _savez(tmp, arrays))
    write_atomic(out, text)
    written = Written([out, data_path])
    if data.augment is not None and data.augment.active:
        written.notes.append("data.augment is not written out: the script trains on the data as they are")
    if s.initial_weights is not None:
        written.notes.append("training.initial_weights is not written out: the script starts from new weights")
    return written


def _savez(path: str, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as file:      # a file object: np.savez would add .npz to a temporary name
        np.savez(file, **arrays)


def _check_ours(path: Path) -> None:
    """train.npz is replaced only when LayerLoom wrote it (DESIGN §8)."""
    if not path.exists():
        return
    try:
        with np.load(path) as existing:
            ours = "format" in existing and str(existing["format"]) == DATA_MARK
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise ScriptError(f"{path} is there and LayerLoom did not write it; the training script needs its "
                          f"{DATA_NAME} beside it: choose another folder for -o, or move that file")
