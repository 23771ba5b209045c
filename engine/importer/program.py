"""`.pt2` sources (torch.export programs): read, and refused with what they hold.

A program keeps ATen operations (`aten.conv2d`, `aten.linear`, ...) and, per operation, the class
and path of the module it came from, but not the modules' settings as objects nor the Python
structure (blocks, constructor arguments) the importer reads a design from. Rebuilding layers from
operation arguments is not done yet (docs/import.md, "Not yet"), so a program is refused with a
message that says what it holds and the way that works: the Python file that defines the model,
with the program's weights (`--weights`, saved from `ExportedProgram.state_dict`)."""
from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from engine.importer.problems import ImportFailure


def refuse_program(text: str) -> None:
    """Always raises ImportFailure: the file is missing, not a program, or a program (not read yet)."""
    path = Path(text)
    if not path.is_file():
        raise ImportFailure(f"source {path}: no such file")
    import torch

    log = logging.getLogger("torch.export")  # it logs a traceback for a file that is not a program
    was = log.disabled
    log.disabled = True
    try:
        program = torch.export.load(str(path))
    except Exception as exc:  # noqa: BLE001 -- any reason it does not load is the file's
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImportFailure(f"source {path.name}: not a torch.export program that loads ({first})") from None
    finally:
        log.disabled = was
    calls = Counter(str(n.target).split(".")[1] if str(n.target).startswith("aten.") else str(n.target)
                    for n in program.graph.nodes if n.op == "call_function")
    modules = {path for n in program.graph.nodes
               for path, cls in (n.meta.get("nn_module_stack") or {}).values() if path and cls.startswith("torch.nn.")}
    held = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in calls.most_common(6))
    more = f" and {len(calls) - 6} more" if len(calls) > 6 else ""
    raise ImportFailure(
        f"source {path.name}: importing a torch.export program (.pt2) is not supported yet: it holds "
        f"{sum(calls.values())} ATen operation(s) ({held}{more}) from {len(modules)} torch.nn module(s), but not "
        "their settings as modules nor the Python structure a design is read from. Import the Python file that "
        "defines the model instead (FILE.py:NAME), with the program's weights: save "
        "torch.export.load(FILE).state_dict to a .safetensors file and pass it as --weights")
