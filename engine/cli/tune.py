"""`python main.py tune FILE --trials N [--jobs K] [--timeout S] [--storage URL] [--study NAME] [-o BEST.loom]`.

Checks the search section, the runs folder and -o before any trial (DESIGN §8, §10), then runs
the trials (each an ordinary run in runs/<study>/trial-NNN beside the project), printing a row as
each finishes, and ends with the study's best trial, the importances and where the best design
went (default runs/<study>/best.loom). See docs/search.md.
"""
from __future__ import annotations

from pathlib import Path

from engine.cli.common import CommandError, analysed, check_folder_writable, check_not_input, load_project
from engine.tuning.report import Table, TrialRow, best_trial, summary
from engine.tuning.space import SearchError, apply, parse_search
from engine.tuning.study import (
    check_study_name,
    counts,
    default_storage,
    default_study_name,
    open_study,
    optuna_module,
)
from graph.project import LoomFileError, save

BEST_NAME = "best.loom"


def run(path: str, trials: int, jobs: int = 1, timeout: float | None = None, storage: str | None = None,
        study: str | None = None, output: str | None = None) -> int:
    try:
        return _run(path, trials, jobs, timeout, storage, study, output)
    except SearchError as exc:
        raise CommandError(str(exc)) from None


def _run(path: str, trials: int, jobs: int, timeout: float | None, storage: str | None, study_name: str | None,
         output: str | None) -> int:
    try:
        project = load_project(path)
    except CommandError as exc:
        raise CommandError(str(exc), code=1) from None
    spec = parse_search(project)
    analysed(project)
    if trials < 1:
        raise CommandError(f"--trials must be 1 or more, got {trials}")
    if jobs < 1:
        raise CommandError(f"--jobs must be 1 or more, got {jobs}")
    if timeout is not None and timeout <= 0:
        raise CommandError(f"--timeout must be a number of seconds above 0, got {timeout:g}")
    optuna_module()
    name = check_study_name(study_name or default_study_name(project.name))
    url = storage or default_storage(path)
    runs_dir = Path(path).resolve().parent / "runs" / name
    check_folder_writable(runs_dir, "the runs folder")
    best_path = Path(output) if output else runs_dir / BEST_NAME
    if output:
        check_not_input(output, path)
        check_folder_writable(best_path.parent, "-o")
    study = open_study(spec, name, url, project.name)
    before = sum(counts(study).values())
    joined = f"; joining its {before} trial(s)" if before else ""
    print(f"Searching {project.name}: {len(spec.dimensions)} key(s), {trials} trial(s) on {jobs} job(s), "
          f"{spec.direction} {spec.metric}; study {name} in {url}{joined}", flush=True)
    earlier = best_trial(study)
    table = Table(spec, earlier.value if earlier is not None else None)
    print(table.header(), flush=True)
    ran: list[TrialRow] = []

    def on_row(row: TrialRow) -> None:
        ran.append(row)
        print(table.row(row), flush=True)

    if jobs == 1:
        from engine.tuning.objective import Objective
        from engine.tuning.parallel import optimize

        optimize(study, Objective(project, spec, project_file=path, study_name=name, runs_dir=runs_dir), trials,
                 timeout, on_row)
    else:
        from engine.tuning.parallel import jobs_for, run_jobs

        error = run_jobs(jobs_for(str(Path(path).resolve()), name, url, runs_dir, trials, jobs, timeout), on_row)
        if error:
            raise CommandError(error)
    for line in summary(study, spec, ran):
        print(line)
    best = best_trial(study)
    if best is None:
        raise CommandError("no trial finished, so there is no best design to write; see the errors above")
    values = {d.key: best.params[d.key] for d in spec.dimensions if d.key in best.params}
    try:
        save(apply(project, values), best_path)
    except (OSError, LoomFileError) as exc:
        raise CommandError(f"-o {best_path}: cannot write the best design ({exc})") from None
    print(f"wrote the best design (trial {best.number}, its run in {best.user_attrs.get('run_dir', '?')}) to "
          f"{best_path}; train it with: python main.py train {best_path}")
    return 0
