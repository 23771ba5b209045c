"""`train --out DIR` checks where its results go before any work starts (DESIGN §8): a file in
place of the folder, a folder it cannot write, or a folder holding files a run would write but
that no run made are refused with exit 1 and a message, and nothing of the user's is touched."""
import tempfile
from pathlib import Path

import pytest

from tests.test_train_cli import spiral_file, train


def test_a_folder_holding_the_users_own_files_is_refused(tmp_path, capsys):
    proj = tmp_path / "proj"
    proj.mkdir()
    loom = spiral_file(proj, training={"epochs": 1})
    mine = proj / "model.py"
    mine.write_text("# my own model, not LayerLoom's\n")
    code, _, err = train(capsys, loom, "--out", proj, "--quiet")
    assert code == 1 and "model.py" in err and "--overwrite" in err, err
    assert mine.read_text() == "# my own model, not LayerLoom's\n"
    assert sorted(p.name for p in proj.iterdir()) == ["model.py", "spiral.loom"]


def test_a_folder_holding_only_other_files_takes_the_run_beside_them(tmp_path, capsys):
    proj = tmp_path / "proj"
    proj.mkdir()
    loom = spiral_file(proj, training={"epochs": 1})
    (proj / "notes.txt").write_text("keep me")
    code, _, err = train(capsys, loom, "--out", proj, "--quiet")
    assert code == 0, err
    assert (proj / "notes.txt").read_text() == "keep me" and (proj / "run.json").is_file()


def test_overwrite_replaces_files_the_user_named(tmp_path, capsys):
    loom = spiral_file(tmp_path, training={"epochs": 1})
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.py").write_text("old")
    code, _, err = train(capsys, loom, "--out", out, "--quiet", "--overwrite")
    assert code == 0, err
    assert "class " in (out / "model.py").read_text()


def test_an_existing_file_in_place_of_the_folder_is_a_user_mistake(tmp_path, capsys):
    loom = spiral_file(tmp_path, training={"epochs": 1})
    afile = tmp_path / "afile"
    afile.write_text("mine")
    for out in (afile, afile / "sub"):
        code, _, err = train(capsys, loom, "--out", out, "--quiet")
        assert code == 1 and "is a file, not a folder" in err and "internal error" not in err, err
    assert afile.read_text() == "mine"


def test_a_read_only_folder_is_refused_before_training(tmp_path, capsys, monkeypatch):
    """chmod alone does not stop root, so creating files there is also made to fail as the kernel would."""
    loom = spiral_file(tmp_path, training={"epochs": 1})
    ro = tmp_path / "ro"
    ro.mkdir()
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).resolve() == ro.resolve():
            raise PermissionError(13, "Permission denied", str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    ro.chmod(0o555)
    try:
        code, out, err = train(capsys, loom, "--out", ro, "--quiet")
    finally:
        ro.chmod(0o755)
    assert code == 1 and "cannot write" in err and str(ro) in err, err
    assert "epoch" not in out  # refused before any training
    assert list(ro.iterdir()) == []


@pytest.mark.parametrize("flag", ["--resume", "--overwrite"])
def test_the_checks_hold_for_resume_and_overwrite_too(tmp_path, capsys, flag):
    loom = spiral_file(tmp_path, training={"epochs": 1})
    afile = tmp_path / "afile"
    afile.write_text("mine")
    code, _, err = train(capsys, loom, "--out", afile, "--quiet", flag)
    assert code == 1 and "is a file, not a folder" in err, err
    assert afile.read_text() == "mine"
