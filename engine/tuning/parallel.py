"""`--jobs K`: K trials at a time on this machine, each in its own process.

Processes rather than threads: a trial is a Trainer run, and torch's thread count and random
seed are per process (`torch.set_num_threads`, `torch.manual_seed`), so two trials in threads of
one process would change each other's; small models also run Python-bound, where threads would
queue on the GIL. Each worker joins the study through its storage exactly as a second `tune` in
another terminal does, takes its share of the trials and the cores (`cores // K` torch threads),
and sends a row to the parent as each of its trials finishes.
"""
from __future__ import annotations

import multiprocessing
import os
import queue as queues
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.tuning.report import TrialRow


@dataclass(frozen=True)
class Job:
    project_file: str
    study: str
    storage: str
    runs_dir: str
    trials: int
    timeout: float | None
    threads: int


def jobs_for(project_file: str, study: str, storage: str, runs_dir: Path, trials: int, jobs: int,
             timeout: float | None) -> list[Job]:
    """The trials shared out over `jobs` workers (the first ones take one more), cores likewise."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    shares = [trials // jobs + (1 if k < trials % jobs else 0) for k in range(jobs)]
    return [Job(project_file, study, storage, str(runs_dir), n, timeout, threads) for n in shares if n > 0]


def optimize(study, objective, trials: int, timeout: float | None, on_row: Callable[[TrialRow], None]) -> None:
    """Optuna's optimize with a failed run counted as a failed trial (the search goes on)."""
    from engine.tuning.objective import TrialFailed
    from engine.tuning.report import trial_row

    study.optimize(objective, n_trials=trials, timeout=timeout, catch=(TrialFailed,),
                   callbacks=[lambda _study, trial: on_row(trial_row(trial))])


def work(index: int, job: Job, out: multiprocessing.Queue) -> None:
    """One worker process: join the study and run its trials; ("row", TrialRow) per trial, then
    ("error", message) if the search cannot go on, and ("done", None) last."""
    import torch

    from engine.tuning.objective import Objective
    from engine.tuning.space import SearchError, parse_search
    from engine.tuning.study import open_study
    from graph.project import LoomFileError, load

    torch.set_num_threads(job.threads)
    try:
        project = load(job.project_file)
        spec = parse_search(project)
        study = open_study(spec, job.study, job.storage, project.name)
        objective = Objective(project, spec, project_file=job.project_file, study_name=job.study,
                              runs_dir=Path(job.runs_dir))
        optimize(study, objective, job.trials, job.timeout, lambda row: out.put((index, "row", row)))
    except (SearchError, LoomFileError) as exc:
        out.put((index, "error", str(exc)))
    except KeyboardInterrupt:
        pass
    finally:
        out.put((index, "done", None))


def run_jobs(jobs: list[Job], on_row: Callable[[TrialRow], None]) -> str | None:
    """Run the workers to the end, passing their rows on as they come; the first error, if any."""
    context = multiprocessing.get_context("spawn")   # a fresh interpreter: no fork of torch's threads
    out = context.Queue()
    processes = [context.Process(target=work, args=(k, job, out)) for k, job in enumerate(jobs)]
    for p in processes:
        p.start()
    running, error = set(range(len(processes))), None
    try:
        while running:
            try:
                index, kind, payload = out.get(timeout=1.0)
            except queues.Empty:
                for k in list(running):
                    if not processes[k].is_alive() and processes[k].exitcode not in (0, None):
                        running.discard(k)
                        error = error or f"a worker process ended unexpectedly (exit code {processes[k].exitcode})"
                continue
            if kind == "row":
                on_row(payload)
            elif kind == "error":
                error = error or payload
            else:
                running.discard(index)
    finally:
        for p in processes:
            p.join()
    return error
