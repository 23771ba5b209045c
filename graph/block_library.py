"""Libraries of blocks: the built-in one (resources/blocks/library.loom, written by
tools/make_examples.py) and personal ones the user saves. A library is a `.loom` project whose
`blocks` are the point (its graph is empty); `graph.block_edit.import_blocks` copies a block,
with the blocks it uses, into a project."""
from __future__ import annotations

import os
from pathlib import Path

from graph.blocks import Blocks
from graph.project import Project, load, save

BUILT_IN = Path(__file__).resolve().parent.parent / "resources" / "blocks" / "library.loom"


def load_library(path: str | os.PathLike = BUILT_IN) -> Blocks:
    """The blocks of a library file (LoomFileError when it cannot be read)."""
    return load(path).blocks


def save_library(blocks: Blocks, path: str | os.PathLike, name: str = "My blocks") -> None:
    """Write blocks as a library file (atomically, as any project)."""
    project = Project(name=name)
    project.blocks.replace_all(blocks)
    save(project, path)
