"""A clone is self-contained: nothing tracked points outside the repository, and the contracts
it is bound by are in docs/contracts.md, a word-for-word mirror of the shared design."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

MARKER = "<!-- mirror of DESIGN.md below this line -->\n"
SHARED_DESIGN = ROOT.parent / "shared" / "DESIGN.md"  # present beside the working copy, not in a clone
OUTSIDE = re.compile(r"\.\./shared/")


def tracked(*suffixes: str) -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z", *(f"*{s}" for s in suffixes)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return [name for name in out.stdout.split("\0") if name]


def test_no_tracked_page_or_module_points_at_the_shared_folder():
    offenders = []
    for name in tracked(".md", ".py"):
        path = ROOT / name
        if path.is_file():  # a tracked file deleted in the working tree is not read
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if OUTSIDE.search(line):
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == [], "link docs/contracts.md instead:\n" + "\n".join(offenders)


def test_readme_and_docs_link_the_contracts_page():
    assert "](docs/contracts.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    contracts = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    assert MARKER in contracts and "mirrors" in contracts.split(MARKER)[0]
    for section in ("## 3. Contract: the project file", "## 4. Contract: the command line",
                    "## 5. Contract: exported Python code", "## 6. Contract: names for automation"):
        assert section in contracts


@pytest.mark.skipif(not SHARED_DESIGN.is_file(), reason="the shared design is not beside this checkout")
def test_the_contracts_page_is_in_step_with_the_shared_design():
    contracts = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    assert contracts.split(MARKER, 1)[1] == SHARED_DESIGN.read_text(encoding="utf-8"), \
        "copy the shared DESIGN.md below the marker line of docs/contracts.md"
