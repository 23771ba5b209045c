"""Fuzz: random mutations of valid designs (types, sizes, unicode, nesting, numbers, missing and
extra keys) through load, `check` and `export -o x.py`, in process under a memory cap: never a
traceback or "internal error", exit codes only as DESIGN §4 allows, the input never written."""
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.project import LoomFileError, load
from tests.fuzz_files import hostile_document, memory_cap, run_main, write


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@settings(max_examples=150, deadline=15_000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_files_through_load_check_and_export(fuzz_dir, data):
    path, target = fuzz_dir / "design.loom", fuzz_dir / "x.py"
    write(path, hostile_document(data))
    target.unlink(missing_ok=True)
    before = digest(path)
    with memory_cap():
        try:
            load(path)
        except LoomFileError as exc:
            assert str(path) in str(exc)
        code, out, err = run_main("check", str(path))
        assert code in (0, 1, 2), err
        assert "Traceback" not in out + err and "internal error" not in err and "LayerLoom bug" not in err, err
        code, out, err = run_main("export", str(path), "-o", str(target))
    assert code in (0, 1), err
    assert "Traceback" not in out + err and "internal error" not in err and "LayerLoom bug" not in err, err
    if code == 0:
        compile(target.read_text(encoding="utf-8"), str(target), "exec")
    else:
        assert err.startswith("error: ") or "\nerror: " in err, err
        assert not target.exists()
    assert digest(path) == before
