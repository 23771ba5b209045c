"""`python main.py predict FILE --run DIR [--sample K | --input PATH] [--mc-samples N] [--trace] [--json]`.

The run's model (engine.inference) on validation sample K (default 0) or on one input file:
class probabilities and the predicted class, or the value; with `--mc-samples N` the mean and
spread of N passes with dropout drawing, the predictive entropy and the mutual information; with
`--trace` every node's value on the way and the attention weights. `--json` prints the same as one
object (DESIGN §4, docs/predict.md). Every mistake ends with `error: ...` and exit 1.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from engine.cli.common import CommandError, analysed, load_project
from engine.data.registry import DataError
from engine.inference.inputs import output_kinds, read_input, validation_sample
from engine.inference.predictor import MonteCarlo, OutputResult, PredictError, Predictor, Trace
from engine.inference.run import load_run
from engine.inference.stats import summary

BAR_WIDTH = 30


def run(path: str, run_dir: str | None = None, sample: int | None = None, input_path: str | None = None,
        mc_samples: int | None = None, trace: bool = False, as_json: bool = False) -> int:
    try:
        project = load_project(path)
    except CommandError as exc:
        raise CommandError(str(exc), code=1) from None
    analysis = analysed(project)
    if mc_samples is not None and mc_samples < 1:
        raise CommandError(f"--mc-samples must be 1 or more, got {mc_samples}")
    try:
        return _predict(path, project, analysis, run_dir, sample, input_path, mc_samples, trace, as_json)
    except PredictError as exc:
        raise CommandError(str(exc)) from None


def _predict(path, project, analysis, run_dir, sample, input_path, mc_samples, trace, as_json) -> int:
    notes: list[str] = []
    weights, record_data = None, None
    if run_dir is not None:
        trained = load_run(run_dir, project)
        weights, record_data = trained.weights, trained.data_section
        notes += trained.notes
    prepared = _prepare(project, analysis, path, needed=input_path is None, notes=notes)
    if record_data is not None and prepared is not None and record_data != project.data:
        notes.append("the design's data section differs from the one the run trained on: its validation samples "
                     "may not be the run's")
    predictor = Predictor(project, weights, kinds=output_kinds(prepared) if prepared else None, analysis=analysis)
    notes = predictor.notes + notes
    targets: dict[str, torch.Tensor] = {}
    if input_path is not None:
        specs = predictor.input_specs()
        if len(specs) != 1:
            raise CommandError(f"--input gives one sample, but the design has {len(specs)} Inputs "
                               f"({', '.join(s[0] for s in specs)}); use --sample")
        inputs = [read_input(input_path, specs[0], prepared, predictor.vocabulary(specs[0][0]))]
        source: dict[str, Any] = {"file": str(input_path)}
    else:
        k = 0 if sample is None else sample
        inputs, targets = validation_sample(prepared, k)
        source = {"sample": k, "split": "validation", "of": len(prepared.val)}
        if targets:
            source["target"] = {node: _plain(t) for node, t in targets.items()}
    try:
        traced = predictor.trace(inputs) if trace else None
        results = traced.outputs if traced is not None else predictor.predict(inputs)
        mc = predictor.monte_carlo(inputs, mc_samples) if mc_samples is not None else None
    except (RuntimeError, IndexError) as exc:
        raise CommandError(f"the model cannot run on this input: {str(exc).splitlines()[0]}") from None
    if mc is not None and mc.note:
        notes.append(mc.note)
    ports = {p.path: p.layer.output_ports(p.info.values) for p in predictor.placed}
    doc = report(source, results, mc, traced, notes, run_dir, ports)
    if as_json:
        print(json.dumps(doc, indent=2, allow_nan=False))
    else:
        print(text(project.name, doc))
    return 0


def _prepare(project, analysis, path: str, needed: bool, notes: list[str]):
    """The design's data as training prepares it (the same validation split); for --input only
    needed for class names and standardizing, so a data set that cannot be read becomes a note."""
    from engine.data.prepare import prepare_data

    try:
        return prepare_data(project.data, project.graph, analysis, Path(path).resolve().parent)
    except DataError as exc:
        if needed:
            raise CommandError(f"--sample needs the design's data set: {exc}") from None
        notes.append(f"the data set could not be read ({exc}): the input is used as given and classes are numbered")
        return None


# -- the report ------------------------------------------------------------------------------
def _plain(value: torch.Tensor | float | None) -> Any:
    """A tensor as JSON numbers (floats rounded to 6 significant digits), NaN as None."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    return value


def _output(result: OutputResult, mc: MonteCarlo | None, node: str) -> dict[str, Any]:
    kind = result.kind
    out: dict[str, Any] = {"task": kind.task, "loss": kind.loss}
    if kind.task == "classification":
        out["probabilities"] = _plain(result.probabilities[0])
        out["predicted"] = _plain(result.predicted[0])
        if kind.classes:
            out["classes"] = list(kind.classes)
    else:
        out["value"] = _plain(result.value[0])
        if result.variance is not None:   # gaussian_nll: the predicted variance and its square root
            out["variance"] = _plain(result.variance[0])
            out["value_std"] = _plain(result.variance[0].sqrt())
    if mc is not None:
        s = mc.spreads[node]
        out.update(mc_samples=mc.passes, mean=_plain(s.mean[0]), std=_plain(s.std[0]),
                   entropy=_plain(s.entropy[0]) if s.entropy is not None else None,
                   mutual_information=_plain(s.mutual_information[0]) if s.mutual_information is not None else None)
        if mc.note:
            out["note"] = mc.note
    return out


def _trace(traced: Trace, placed_ports: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for path, ports in traced.values.items():
        first = min(ports)
        row = summary(ports[first][0])
        names = placed_ports.get(path, ())
        others = {names[p] if p < len(names) else str(p): summary(v[0]) for p, v in ports.items() if p != first}
        if others:
            row["ports"] = others
        rows[path] = row
    return rows


def report(source: dict[str, Any], results: dict[str, OutputResult], mc: MonteCarlo | None, traced: Trace | None,
           notes: list[str], run_dir: str | None, port_names: dict[str, tuple[str, ...]] | None = None) -> dict:
    """The JSON object of DESIGN §4 (keys beyond it: "run", "task", "loss", "classes", "mc_samples",
    "variance" and "value_std" (gaussian_nll), "attention", "ports"; "trace" and "attention" only when
    traced)."""
    doc: dict[str, Any] = {"input": source, "run": str(run_dir) if run_dir is not None else None,
                           "outputs": {node: _output(r, mc, node) for node, r in results.items()}}
    if traced is not None:
        doc["trace"] = _trace(traced, port_names or {})
        doc["attention"] = {path: {"shape": list(w.shape[1:]), "weights": _plain(w[0])}
                            for path, w in traced.attention.items()}
    if notes:
        doc["note"] = "; ".join(notes)
    return doc


# -- the text ------------------------------------------------------------------------------------
def _bar(p: float) -> str:
    return "█" * round(max(0.0, min(1.0, p)) * BAR_WIDTH)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"


def _class_lines(node: str, out: dict[str, Any]) -> list[str]:
    probs, predicted = out["probabilities"], out["predicted"]
    names = out.get("classes") or []
    if not isinstance(predicted, int):   # a sequence or a map: one class per position
        return [f"{node}: predicted classes {predicted}"]
    label = f" ({names[predicted]})" if predicted < len(names) and names[predicted] != str(predicted) else ""
    lines = [f"{node}: class {predicted}{label}, probability {probs[predicted]:.4f}"]
    mc = "mean" in out
    head = f"  {'class':<12} {'p':>8}" + (f"  {'MC mean':>8} {'± std':>8}" if mc else "")
    lines.append(head)
    for c, p in enumerate(probs):
        name = names[c] if c < len(names) else str(c)
        row = f"  {name[:12]:<12} {p:>8.4f}"
        if mc:
            row += f"  {out['mean'][c]:>8.4f} {out['std'][c]:>8.4f}"
        lines.append(row + "  " + _bar(out["mean"][c] if mc else p))
    if mc:
        lines.append(f"  {out['mc_samples']} MC passes: predictive entropy {out['entropy']:.4f} nats "
                     f"(at most {math.log(len(probs)):.4f}), mutual information {out['mutual_information']:.4f} nats")
    return lines


def _value_lines(node: str, out: dict[str, Any]) -> list[str]:
    value = out["value"]
    lines = [f"{node}: value {value}" if not isinstance(value, list) or len(value) <= 16
             else f"{node}: {len(value)} values, the first {value[:8]}"]
    std = out.get("value_std")
    if std is not None:
        flat = isinstance(std, list) and len(std) <= 16 and all(not isinstance(s, list) for s in std)
        lines.append(f"  predicted std {std} (variance {out['variance']})" if not isinstance(std, list) or flat
                     else "  predicted std and variance per value in --json")
    if "mean" in out:
        mean, std = out["mean"], out["std"]
        if isinstance(mean, list) and len(mean) <= 16 and all(not isinstance(m, list) for m in mean):
            pairs = ", ".join(f"{m:.4g} ± {s:.4g}" for m, s in zip(mean, std))
            lines.append(f"  {out['mc_samples']} MC passes: {pairs}")
        else:
            lines.append(f"  {out['mc_samples']} MC passes: mean and std per value in --json")
    return lines


def text(project_name: str, doc: dict[str, Any]) -> str:
    source = doc["input"]
    where = (f"validation sample {source['sample']} of {source['of']}" if "sample" in source
             else f"input {source['file']}")
    weights = f"run {doc['run']}" if doc["run"] else "random weights"
    lines = [f"{project_name}: {where}, {weights}"]
    for node, target in source.get("target", {}).items():
        if not isinstance(target, list) or len(target) <= 16:
            lines.append(f"  target of {node}: {target}")
    for node, out in doc["outputs"].items():
        lines += _class_lines(node, out) if out["task"] == "classification" else _value_lines(node, out)
    if "trace" in doc:
        lines.append("")
        rows = [("node", "shape", "mean", "std", "min", "max")]
        for path, row in doc["trace"].items():
            rows.append((path, "(" + ", ".join(map(str, row["shape"])) + ")", *(_num(row[k]) for k in
                                                                             ("mean", "std", "min", "max"))))
            for port, sub in row.get("ports", {}).items():
                rows.append((f"  :{port}", "(" + ", ".join(map(str, sub["shape"])) + ")",
                             *(_num(sub[k]) for k in ("mean", "std", "min", "max"))))
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                  for r in rows]
        for path, att in doc.get("attention", {}).items():
            heads, length, source_len = att["shape"]
            focus = [[max(range(source_len), key=row.__getitem__) for row in head] for head in att["weights"]]
            lines.append(f"attention {path}: {heads} heads, {length} queries x {source_len} keys; "
                         f"most attended key per query: " + "; ".join(f"head {h} {f}" for h, f in enumerate(focus)))
    if doc.get("note"):
        lines.append(f"note: {doc['note']}")
    return "\n".join(lines)
