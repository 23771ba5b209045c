"""Adversarial training (training.mode "gan", DESIGN §9): the design's two networks, the settings and
their messages, a run's metrics, samples and files, resuming, the generator sampled with torch alone,
and the gaussian_ring data set with its mode coverage."""
import csv
import json
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch

from engine.data.registry import Context, get
from engine.training import Failed, Finished, RunWriter, Trainer
from engine.training.adversarial import mode_coverage
from engine.training.events import Samples, TrainingError
from engine.training.gan_design import GanDesignError, split_gan
from engine.training.sample_images import image_grid, png_bytes
from engine.training.settings import parse_training
from graph.analysis import analyse
from graph.project import from_dict

torch.set_num_threads(1)


def gan_doc(training=None, data=None, d_out=1, wire_together=False):
    """A small MLP GAN on the ring: z (4) -> G -> fake (2); x (2) -> D -> score (d_out)."""
    chain = [("z", "g1"), ("g1", "ga"), ("ga", "g2"), ("g2", "fake"),
             ("x", "d1"), ("d1", "da"), ("da", "d2"), ("d2", "score")]
    if wire_together:
        chain[4] = ("g2", "d1")
    nodes = [{"id": "z", "type": "Input", "params": {"shape": [4]}},
             {"id": "g1", "type": "Linear", "params": {"out_features": 16}}, {"id": "ga", "type": "ReLU"},
             {"id": "g2", "type": "Linear", "params": {"out_features": 2}}, {"id": "fake", "type": "Output"},
             {"id": "x", "type": "Input", "params": {"shape": [2]}},
             {"id": "d1", "type": "Linear", "params": {"out_features": 16}}, {"id": "da", "type": "LeakyReLU"},
             {"id": "d2", "type": "Linear", "params": {"out_features": d_out}}, {"id": "score", "type": "Output"}]
    return {"format": "layerloom", "version": 1, "name": "tiny gan",
            "graph": {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in chain]},
            "data": {"dataset": "gaussian_ring", "samples": 256, **(data or {})},
            "training": {"mode": "gan", "generator": "fake", "discriminator": "score", "epochs": 2,
                         "batch_size": 32, **(training or {})}}


def gan(**kw):
    return from_dict(gan_doc(**kw))


# -- settings and the design ---------------------------------------------------------------------
def test_gan_settings_have_their_defaults_and_name_wrong_outputs():
    s = parse_training({"mode": "gan", "generator": "fake", "discriminator": "score"}, ["fake", "score"])
    assert (s.gan_loss, s.d_steps, s.betas) == ("bce", 1, (0.5, 0.999))
    assert parse_training({}).betas == (0.9, 0.999) and parse_training({}).mode == "supervised"
    with pytest.raises(TrainingError, match=r"training.discriminator is \"y\", which is not an Output.*fake, score"):
        parse_training({"mode": "gan", "generator": "fake", "discriminator": "y"}, ["fake", "score"])
    with pytest.raises(TrainingError, match="training.generator: mode gan needs"):
        parse_training({"mode": "gan", "discriminator": "score"}, ["fake", "score"])
    with pytest.raises(TrainingError, match="training.gan_loss"):
        parse_training({"gan_loss": "wasserstein"})


def test_the_design_splits_into_two_networks():
    p = gan()
    design = split_gan(p, "fake", "score", analyse(p.graph))
    assert (design.noise, design.noise_shape, design.data, design.sample_shape) == ("z", (4,), "x", (2,))
    assert [n.id for n in design.generator.graph.nodes] == ["z", "g1", "ga", "g2", "fake"]
    assert [n.id for n in design.discriminator.graph.nodes] == ["x", "d1", "da", "d2", "score"]


@pytest.mark.parametrize("doc, names, message", [
    (gan_doc(wire_together=True), ("fake", "score"), "fake: the generator and the discriminator are wired"),
    (gan_doc(d_out=3), ("fake", "score"), "score: the discriminator must give one logit per sample"),
    (gan_doc(), ("g2", "score"), "training.generator is 'g2', which is not an Output node"),
    (gan_doc(), ("fake", "fake"), "both name 'fake'"),
])
def test_a_design_that_is_not_a_gan_is_named(doc, names, message):
    p = from_dict(doc)
    with pytest.raises(GanDesignError, match=message):
        split_gan(p, *names, analyse(p.graph))


def test_a_run_on_a_wrong_design_fails_with_the_message_not_a_traceback():
    result = Trainer(from_dict(gan_doc(wire_together=True))).run()
    assert isinstance(result, Failed) and result.reason == "settings" and "wired together" in result.message
    assert not result.details


# -- a run -----------------------------------------------------------------------------------------
def test_a_gan_run_logs_both_players_saves_samples_and_the_generator(tmp_path):
    out = tmp_path / "run"
    events = []
    trainer = Trainer(gan(), out_dir=out, on_event=events.append)
    RunWriter(out, trainer)
    result = trainer.run()
    assert isinstance(result, Finished), result
    samples = [e for e in events if isinstance(e, Samples)]
    assert [s.epoch for s in samples] == [1, 2]
    assert samples[0].samples.shape == (1000, 2) and samples[0].real.shape[1] == 2
    assert samples[0].mode_count == 8 and 0 <= samples[0].modes <= 8
    assert np.array_equal(trainer.program.fixed_noise, trainer.program.fixed_noise)  # one fixed batch
    with (out / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    for column in ("train_d_loss", "train_g_loss", "train_d_real", "train_d_fake", "train_modes", "train_quality"):
        assert rows[-1][column] != "", column
    assert 0 < float(rows[-1]["train_d_real"]) < 1 and float(rows[-1]["train_d_loss"]) > 0
    for epoch in (1, 2):
        png = (out / "samples" / f"epoch_{epoch:03d}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    files = json.loads((out / "run.json").read_text())["files"]
    assert files["generator"] == "generator.py" and files["generator_weights"] == "generator.safetensors"
    # the generator with torch alone (and safetensors), in a fresh process that never sees LayerLoom
    script = ("import sys, torch; sys.path.insert(0, '.'); import generator; "
              "from safetensors.torch import load_file; g = generator.build_model(); "
              "g.load_state_dict(load_file('generator.safetensors')); g.eval(); "
              "print(tuple(g(torch.randn(7, 4)).shape)); "
              "print(any(m.startswith(('engine', 'graph', 'app')) for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout.split() == ["(7,", "2)", "False"], done.stderr
    # the generator in the run folder is the trained one: its samples are the last epoch's
    sys.path.insert(0, str(out))
    try:
        import generator
        from safetensors.torch import load_file

        g = generator.build_model()
        g.load_state_dict(load_file(out / "generator.safetensors"))
        g.eval()
        with torch.no_grad():
            made = g(trainer.program.fixed_noise).numpy()
        assert np.allclose(made, samples[-1].samples, atol=1e-6)
    finally:
        sys.path.remove(str(out))
        sys.modules.pop("generator", None)


def test_the_whole_model_holds_both_networks_weights():
    trainer = Trainer(gan())
    trainer.prepare()
    whole = trainer.model.state_dict()
    for net in (trainer.program.generator, trainer.program.discriminator):
        for key, value in net.state_dict().items():
            assert value.data_ptr() == whole[key].data_ptr(), key


@pytest.mark.parametrize("training", [{"gan_loss": "hinge"}, {"d_steps": 3}])
def test_hinge_and_several_discriminator_steps_train(training):
    events = []
    result = Trainer(gan(training=training), on_event=events.append).run()
    assert isinstance(result, Finished), result
    last = [e for e in events if e.kind == "epoch_ended"][-1].train_metrics
    assert all(np.isfinite(v) for v in last.values()) and last["g_loss"] != 0


def test_a_stopped_gan_run_resumes_as_if_it_never_stopped(tmp_path):
    straight = Trainer(gan(training={"epochs": 3}))
    straight.run()
    first = Trainer(gan(training={"epochs": 1}), out_dir=tmp_path)
    first.run()
    resumed = Trainer(gan(training={"epochs": 3}), out_dir=tmp_path, resume_from=tmp_path / "checkpoint.pt")
    assert isinstance(resumed.run(), Finished)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert {"g_optimizer", "d_optimizer"} <= set(ckpt)


def test_image_samples_make_a_grid():
    doc = gan_doc(data={"dataset": "digits"})
    del doc["data"]["samples"]
    doc["graph"]["nodes"][3]["params"]["out_features"] = 64
    doc["graph"]["nodes"][5]["params"]["shape"] = [1, 8, 8]
    doc["graph"]["nodes"].insert(6, {"id": "flat", "type": "Flatten"})
    doc["graph"]["edges"][4:5] = [{"from": "x", "to": "flat"}, {"from": "flat", "to": "d1"}]
    events = []
    result = Trainer(from_dict(doc), on_event=events.append).run()
    assert isinstance(result, Finished), result
    shot = [e for e in events if isinstance(e, Samples)][-1]
    assert shot.samples.shape == (64, 1, 8, 8) and shot.modes is None and shot.real is None
    assert image_grid(shot.samples).shape == (8 * 9 + 1, 8 * 9 + 1, 3)


# -- the data set and the figures -------------------------------------------------------------------
def test_gaussian_ring_has_its_modes_on_the_circle():
    ring = get("gaussian_ring")
    options = {p.name: p.default for p in ring.options} | {"seed": 0}
    assert (options["samples"], options["modes"], options["std"], options["radius"]) == (2000, 8, 0.02, 2.0)
    raw = ring.load(options, Context(None, [], []))
    x = raw.inputs[0]
    centres = np.asarray(raw.info["modes"])
    assert x.shape == (2000, 2) and x.dtype == np.float32 and np.allclose(centres[0], [2.0, 0.0])
    assert np.allclose(np.linalg.norm(centres, axis=1), 2.0)
    assert mode_coverage(x, centres, 0.02)[0] == 8 and mode_coverage(x, centres, 0.02)[1] > 0.99
    one_mode = np.repeat(centres[:1], 100, axis=0)
    assert mode_coverage(one_mode, centres, 0.02) == (1, 1.0)


def test_png_bytes_hold_the_picture():
    rgb = np.zeros((3, 5, 3), dtype=np.uint8)
    rgb[1, 2] = (255, 0, 10)
    png = png_bytes(rgb)
    assert png[12:16] == b"IHDR" and int.from_bytes(png[16:20], "big") == 5 and int.from_bytes(png[20:24], "big") == 3
    start = png.index(b"IDAT") + 4
    raw = zlib.decompress(png[start:start + int.from_bytes(png[start - 8:start - 4], "big")])
    rows = [raw[r * 16 + 1:(r + 1) * 16] for r in range(3)]
    assert rows[1][6:9] == bytes((255, 0, 10))


def test_export_of_a_gan_design_is_one_file_with_both_networks(tmp_path):
    from tests.conftest import EXAMPLES, ROOT

    out = tmp_path / "gan.py"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(EXAMPLES / "gan_ring.loom"), "-o",
                           str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    script = ("import sys, torch; sys.path.insert(0, '.'); import gan; m = gan.build_model(); "
              "fake, score = m(*gan.example_inputs(3)); print(tuple(fake.shape), tuple(score.shape))")
    shapes = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False)
    assert shapes.stdout.strip() == "(3, 2) (3, 1)", shapes.stderr


# -- fp16: a GradScaler per player -----------------------------------------------------------------
@pytest.fixture
def fp16_on_cpu(monkeypatch):
    """fp16 autocast on the CPU (torch has CPU fp16 autocast and GradScaler('cpu')); the settings
    refuse fp16 off CUDA, so the trainer's dtype choice is replaced."""
    monkeypatch.setattr("engine.training.trainer.autocast_dtype", lambda precision, device: torch.float16)


def test_fp16_gives_each_player_a_grad_scaler_that_resume_restores(tmp_path, fp16_on_cpu):
    straight = Trainer(gan(training={"epochs": 3}))
    assert isinstance(straight.run(), Finished)
    program = straight.program
    assert program.g_scaler is not None and program.d_scaler is not None
    assert program.g_scaler is not program.d_scaler
    first = Trainer(gan(training={"epochs": 1}), out_dir=tmp_path)
    first.run()
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ckpt["g_scaler"]["scale"] > 0 and ckpt["d_scaler"]["scale"] > 0
    resumed = Trainer(gan(training={"epochs": 3}), out_dir=tmp_path, resume_from=tmp_path / "checkpoint.pt")
    assert isinstance(resumed.run(), Finished)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    for name in ("g_scaler", "d_scaler"):
        assert getattr(resumed.program, name).state_dict() == getattr(program, name).state_dict(), name


def test_a_checkpoint_restores_the_scalers_it_holds(fp16_on_cpu):
    trainer = Trainer(gan())
    trainer.prepare()
    state = trainer.program.state()
    state["d_scaler"] = {**state["d_scaler"], "scale": 128.0, "_growth_tracker": 5}
    assert trainer.program.restore(state) == []
    assert trainer.program.d_scaler.get_scale() == 128.0 and trainer.program.g_scaler.get_scale() == 65536.0


def test_full_precision_and_bf16_have_no_scaler(monkeypatch):
    for dtype in (None, torch.bfloat16):
        monkeypatch.setattr("engine.training.trainer.autocast_dtype", lambda precision, device, d=dtype: d)
        trainer = Trainer(gan())
        trainer.prepare()
        assert trainer.program.g_scaler is None and trainer.program.d_scaler is None
        assert trainer.program.state()["g_scaler"] is None
