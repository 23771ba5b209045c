"""Training on several processes (issue 18 item 2; engine.training.distributed): the batches each
process takes, the totals summed over processes, the rank's trainer (in this process, a group of one)
and the refusals that come before any process starts."""
from __future__ import annotations

import pytest
import torch

from engine.data.loader import BatchLoader, Split
from engine.training import distributed
from engine.training.distributed import DistributedTrainer, Rank, device_kind
from engine.training.events import Finished, Step, TrainingError
from engine.training.losses import MetricTotals, Objective
from engine.training.trainer import Trainer
from tests.engine.test_data_fit import project

CPU = torch.device("cpu")


def _split(n: int) -> Split:
    return Split((torch.arange(n, dtype=torch.float32)[:, None],), (torch.arange(n),))


def _shares(n: int, batch: int, world: int, seed: int = 0) -> list[list[torch.Tensor]]:
    """Each rank's batches (their sample ids) of one epoch."""
    out = []
    for rank in range(world):
        loader = BatchLoader(_split(n), batch, shuffle=True, device=CPU, generator=torch.Generator().manual_seed(seed),
                             shard=(rank, world))
        out.append([y for _, (y,) in loader])
        assert len(loader) == len(out[-1])
    return out


@pytest.mark.parametrize("n, batch, world", [(400, 32, 2), (203, 64, 2), (203, 63, 2), (100, 10, 3), (33, 8, 4)])
def test_every_rank_takes_its_own_equal_part_of_each_batch(n, batch, world):
    shares = _shares(n, batch, world)
    steps = {len(s) for s in shares}
    assert len(steps) == 1                                              # all ranks take as many steps
    for k in range(steps.pop()):
        sizes = {len(s[k]) for s in shares}
        assert len(sizes) == 1 and sizes.pop() >= 2                     # ... of one size, 2 or more samples
    seen = torch.cat([torch.cat(s) for s in shares])
    whole = -(-batch // world) * world
    covered = n if -(-(n % whole) // world) != 1 else n - n % whole      # a last part under 2 each is dropped
    assert seen.unique().numel() == covered                              # every sample of the epoch, once...
    assert seen.numel() - covered < world                                # ...but those filling up the last batch


def test_one_batch_is_the_batch_one_process_takes():
    """A step of two ranks covers the very samples of a one-process step (the same order)."""
    shares = _shares(400, 32, 2)
    one = [y for _, (y,) in BatchLoader(_split(400), 32, shuffle=True, device=CPU,
                                         generator=torch.Generator().manual_seed(0))]
    assert torch.equal(torch.cat([shares[0][0], shares[1][0]]).sort().values, one[0].sort().values)


def test_totals_summed_over_processes_give_the_whole_figures():
    """Two parts' totals, summed as all_reduce sums them, read as the totals of the whole pass."""
    from engine.data.prepare import TargetSpec

    torch.manual_seed(0)
    specs = [TargetSpec("c", "cross_entropy", "classification", "first", 3, (3,)),
             TargetSpec("r", "mse", "regression", None, None, (2,))]
    objective = Objective(specs, {})
    outs, ys = (torch.randn(40, 3), torch.randn(40, 2)), (torch.randint(0, 3, (40,)), torch.randn(40, 2))
    whole = MetricTotals(objective, CPU)
    whole.add(outs, ys, torch.tensor(0.5), 40)
    parts = []
    for part in (slice(0, 25), slice(25, 40)):
        totals = MetricTotals(objective, CPU)
        totals.add([t[part] for t in outs], [t[part] for t in ys], torch.tensor(0.5), len(range(40)[part]))
        parts.append(totals)
    sent: list[torch.Tensor] = []
    parts[1].reduce = lambda t: sent.append(t.clone()) or t
    parts[1].metrics()                                    # the other process's vector
    parts[0].reduce = lambda t: t + sent[0]
    assert parts[0].loss() == pytest.approx(whole.loss())
    for key, value in whole.metrics().items():
        assert parts[0].metrics()[key] == pytest.approx(value), key


def test_an_empty_part_adds_nothing():
    from engine.data.prepare import TargetSpec

    objective = Objective([TargetSpec("y", "cross_entropy", "classification", "first", 3, (3,))], {})
    totals = MetricTotals(objective, CPU, reduce=lambda t: t)
    assert totals.metrics() == {} and totals.loss() != totals.loss()   # no samples: no figure, a NaN loss


def test_devices_refused_before_any_process_starts(monkeypatch):
    assert device_kind("cpu", 4) == "cpu"
    with pytest.raises(TrainingError, match="Apple's MPS"):
        device_kind("mps", 2)
    with pytest.raises(TrainingError, match="names one GPU"):
        device_kind("cuda:1", 2)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert device_kind("auto", 2) == "cuda"
    with pytest.raises(TrainingError, match="needs 3 CUDA devices, one per process, but this machine has 2"):
        device_kind("cuda", 3)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert device_kind("auto", 2) == "cpu"
    with pytest.raises(TrainingError, match="has none; use --device cpu"):
        device_kind("cuda", 2)


def test_only_rank_0_writes_checkpoints_and_sends_statistics(tmp_path):
    p = project({"dataset": "spiral", "samples": 200}, {"epochs": 1})
    other = DistributedTrainer(p, Rank(1, 2, 1, 2, "cpu"), out_dir=tmp_path)
    first = DistributedTrainer(p, Rank(0, 2, 0, 2, "cpu"), out_dir=tmp_path)
    assert other.checkpoint_path is None and first.checkpoint_path == tmp_path / "checkpoint.pt"
    assert other.overrides["telemetry"] is False and "telemetry" not in first.overrides
    assert other.shard == (1, 2) and other.overrides["device"] == "cpu"


@pytest.fixture
def group_of_one(monkeypatch):
    """This process as the only rank of a gloo group."""
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(distributed.free_port()))
    threads = torch.get_num_threads()
    rank = Rank(0, 1, 0, 1, "cpu")
    with distributed.process_group(rank):
        yield rank
    torch.set_num_threads(threads)


def test_a_rank_trains_as_one_process_does(group_of_one):
    p = project({"dataset": "spiral", "samples": 400}, {"epochs": 6, "batch_size": 32, "learning_rate": 0.02})
    alone = Trainer(p).run()
    ranked = DistributedTrainer(p, group_of_one).run()
    assert isinstance(alone, Finished) and isinstance(ranked, Finished), ranked
    assert ranked.steps == alone.steps
    assert ranked.final["val_accuracy"] == pytest.approx(alone.final["val_accuracy"], abs=0.05)


def test_a_stop_is_honoured_after_the_step_all_ranks_agree_on(group_of_one):
    p = project({"dataset": "spiral", "samples": 400}, {"epochs": 50, "batch_size": 32})
    trainer = DistributedTrainer(p, group_of_one)
    seen: list[int] = []

    def on_event(event):
        if isinstance(event, Step):
            seen.append(event.step)
            if len(seen) == 1:
                trainer.stop("stopped")
                assert not trainer.stopping        # asked, not yet agreed
    trainer.subscribe(on_event)
    result = trainer.run()
    assert isinstance(result, Finished) and result.reason == "stopped"
    assert result.steps <= seen[0] + 1 and result.epochs_done <= 1
