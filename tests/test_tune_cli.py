"""`python main.py tune` (DESIGN §4, §10): trials as ordinary runs, a table, the best design written,
bad sections refused before any trial, and studies shared by processes through their storage.
Budgets are tiny: a few trials of two epochs on 200 spiral points."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import main
from engine.training.events import EpochEnded
from engine.tuning.objective import Objective, TrialFailed
from engine.tuning.space import parse_search
from graph.project import load, save
from tests.conftest import ROOT
from tests.engine.test_data_fit import project

optuna = pytest.importorskip("optuna")

SPACE = {"training.learning_rate": {"log_uniform": [0.003, 0.05]}, "nodes.fc1.out_features": {"int": [4, 32]}}


def search_file(tmp_path: Path, space=None, name="spiral.loom", **section) -> Path:
    p = project({"dataset": "spiral", "samples": 200}, {"epochs": 2, "batch_size": 32, "seed": 0}, name="Spiral")
    p.extra["search"] = {"metric": "val_accuracy", "space": space or SPACE, **section}
    save(p, tmp_path / name)
    return tmp_path / name


def tune(capsys, *args) -> tuple[int, str, str]:
    code = main.main(["tune", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def study(path: Path, name: str):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{path.with_name(path.stem + '.optuna.db')}")


def test_a_tiny_search_runs_its_trials_as_runs_and_writes_the_best_design(tmp_path, capsys):
    path = search_file(tmp_path)
    best_file = tmp_path / "best.loom"
    code, out, err = tune(capsys, path, "--trials", 3, "-o", best_file)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Searching Spiral: 2 key(s), 3 trial(s) on 1 job(s), maximize val_accuracy; "
                               "study spiral in sqlite:///")
    assert lines[1].split() == ["trial", "state", "val_accuracy", "epochs", "time", "learning_rate",
                                "fc1.out_features"]
    assert [line.split()[:2] for line in lines[2:5]] == [["0", "done"], ["1", "done"], ["2", "done"]]
    assert "study spiral: 3 trial(s) (3 done); this command ran 3" in out
    s = study(path, "spiral")
    best = s.best_trial
    assert f"best: trial {best.number}, val_accuracy {best.value * 100:.2f}%" in out
    assert "importance: " in out
    for number in range(3):
        run = tmp_path / "runs" / "spiral" / f"trial-{number:03d}"
        record = json.loads((run / "run.json").read_text())
        trial = s.trials[number]
        assert record["status"] == "finished" and record["search"]["study"] == "spiral"
        assert record["search"]["trial"] == number and record["search"]["params"] == trial.params
        assert record["settings"]["learning_rate"] == trial.params["training.learning_rate"]
        assert load(run / "design.loom").graph["fc1"].params["out_features"] == trial.params["nodes.fc1.out_features"]
        assert trial.intermediate_values.keys() == {1, 2}           # reported per epoch
    written = load(best_file)
    assert written.training["learning_rate"] == best.params["training.learning_rate"]
    assert written.graph["fc1"].params["out_features"] == best.params["nodes.fc1.out_features"]
    assert f"to {best_file}; train it with: python main.py train {best_file}" in out


def test_a_bad_search_section_is_refused_before_any_trial(tmp_path, capsys):
    path = search_file(tmp_path, {"nodes.fc9.out_features": {"int": [4, 32]}})
    code, out, err = tune(capsys, path, "--trials", 2)
    assert code == 1 and out == ""
    assert err.startswith('error: search.space["nodes.fc9.out_features"]: there is no node \'fc9\'')
    assert not (tmp_path / "runs").exists() and not (tmp_path / "spiral.optuna.db").exists()


def test_a_metric_the_runs_do_not_give_ends_the_search_naming_it(tmp_path, capsys):
    path = search_file(tmp_path, metric="val_r2")
    code, _out, err = tune(capsys, path, "--trials", 2)
    assert code == 1
    assert "error: search.metric is 'val_r2', which this design's runs do not give; choose one of train_loss, " \
           "val_loss, train_accuracy, val_accuracy" in err


def test_without_optuna_tune_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)   # `import optuna` raises ImportError
    code, _out, err = tune(capsys, search_file(tmp_path), "--trials", 1)
    assert code == 1 and 'pip install "layerloom[tune]"' in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, message", [
    (["--trials", "0"], "--trials must be 1 or more"),
    (["--trials", "1", "--jobs", "0"], "--jobs must be 1 or more"),
    (["--trials", "1", "--study", "../up"], "--study '../up': a study name is also a folder name"),
    (["--trials", "1", "--storage", "nosuchdb://x"], "--storage nosuchdb://x: cannot open the storage"),
])
def test_bad_options_are_refused(tmp_path, capsys, args, message):
    code, _out, err = tune(capsys, search_file(tmp_path), *args)
    assert code == 1 and message in err


def test_a_pruned_trial_stops_its_run_and_counts_as_pruned(tmp_path):
    """The run stops after the epoch the pruner rejects; its folder says so."""
    path = search_file(tmp_path)
    p = load(path)
    s = optuna.create_study(direction="maximize")
    trial = s.ask()
    trial.should_prune = lambda: True
    seen = []
    objective = Objective(p, parse_search(p), project_file=path, study_name="s", runs_dir=tmp_path / "runs",
                          on_trainer=lambda t: t.subscribe(lambda e: isinstance(e, EpochEnded) and seen.append(e)))
    with pytest.raises(optuna.TrialPruned):
        objective(trial)
    record = json.loads((tmp_path / "runs" / "trial-000" / "run.json").read_text())
    assert record["reason"] == "pruned" and record["epochs_done"] == 1 and len(seen) == 1


def test_a_failed_run_is_a_failed_trial_with_its_message(tmp_path):
    path = search_file(tmp_path, {"training.learning_rate": {"choice": [1e30]}})
    p = load(path)
    p.training["optimizer"] = "sgd"
    s = optuna.create_study(direction="maximize")
    objective = Objective(p, parse_search(p), project_file=path, study_name="s", runs_dir=tmp_path / "runs")
    s.optimize(objective, n_trials=1, catch=(TrialFailed,))
    assert s.trials[0].state.name == "FAIL" and "the loss became" in s.trials[0].user_attrs["error"]


def test_two_processes_fill_one_sqlite_study(tmp_path):
    """Two terminals on one study: both contribute, the study holds every trial once."""
    path = search_file(tmp_path)
    command = [sys.executable, str(ROOT / "main.py"), "tune", str(path), "--trials", "2", "--study", "shared"]
    first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=240) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    trials = study(path, "shared").trials
    assert len(trials) == 4 and sorted(t.number for t in trials) == [0, 1, 2, 3]
    workers = {t.user_attrs["worker"] for t in trials}
    assert workers == {f"{w.split(':')[0]}:{pid}" for w in workers for pid in (first.pid, second.pid)}
    assert sorted(p.name for p in (tmp_path / "runs" / "shared").glob("trial-*")) == [f"trial-00{k}" for k in range(4)]


def test_jobs_run_trials_in_parallel_processes(tmp_path, capsys):
    path = search_file(tmp_path)
    code, out, err = tune(capsys, path, "--trials", 3, "--jobs", 2, "--study", "par")
    assert code == 0, err
    trials = study(path, "par").trials
    assert len(trials) == 3 and len({t.user_attrs["worker"] for t in trials}) == 2
    assert sorted(line.split()[0] for line in out.splitlines()[2:5]) == ["0", "1", "2"]


@pytest.mark.slow
def test_the_example_search_finds_a_clearly_better_design(tmp_path, capsys):
    """README "Search": the under-sized spiral_search starts below 60% and its search passes 95%."""
    import shutil

    from engine.training import Trainer

    path = tmp_path / "spiral_search.loom"
    shutil.copy(ROOT / "resources" / "examples" / "spiral_search.loom", path)
    start = Trainer(load(path), base_dir=tmp_path).run().final["val_accuracy"]
    code, out, err = tune(capsys, path, "--trials", 12, "-o", tmp_path / "best.loom")
    assert code == 0, err
    best = study(path, "spiral-search").best_value
    assert start < 0.6 and best >= 0.95, out
