"""The one training loop: a seeded run is deterministic, and a killed run resumes to the same weights."""

import numpy as np
import pytest
import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from gaitdata.runtime import make_accelerator
from gaitdata.training_loop import STATE_FILE, TrainingLoop, latest_checkpoint, read_log


class _Line(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, features: int = 4):
        super().__init__()
        self.linear = torch.nn.Linear(features, 1)

    def forward(self, x):
        return self.linear(x)


class _Batches:
    """An endless sampler with its random state (what the recognizers' `ClipBatches` is)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        while True:
            x = torch.from_numpy(self.rng.normal(size=(8, 4)).astype(np.float32))
            yield x, x.sum(1, keepdim=True)

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]


class _Killed(Exception):
    pass


def _train(out_dir, resume=False, kill_at=None) -> torch.Tensor:
    torch.manual_seed(0)
    model, batches = _Line(), _Batches(1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
    loop = TrainingLoop(
        make_accelerator(),
        model,
        optimizer,
        out_dir=out_dir,
        name="line",
        total_steps=10,
        lr_factor=lambda step: 1 - step / 10,
        log_every=2,
        checkpoint_every=3,
        state={"batches": batches},
        progress=False,
    )
    if resume:
        assert loop.resume(required=True) and loop.step == 6

    def compute_loss(net, batch):
        x, y = batch
        noise = 0.1 * torch.randn_like(y)  # the torch RNG is part of the training state
        loss = (net(x) - y - noise).pow(2).mean()
        return loss, {"scale": net.linear.weight.detach().abs().mean().item()}

    def after_step():
        if loop.step + 1 == kill_at:
            raise _Killed

    loop.run(batches, compute_loss, after_step=after_step, evaluate=lambda net: {"w": float(net.linear.bias)})
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path):
    whole = _train(tmp_path / "whole")
    assert torch.equal(whole, _train(tmp_path / "again")), "a seeded run is deterministic"
    with pytest.raises(_Killed):
        _train(tmp_path / "killed", kill_at=9)  # after step 8 (logged); the last checkpoint is step 6's
    assert latest_checkpoint(tmp_path / "killed", "line").name == "step-000006"
    assert torch.equal(whole, _train(tmp_path / "killed", resume=True))

    final = latest_checkpoint(tmp_path / "killed", "line")
    assert final.name == "step-000010" and [p.name for p in final.parent.iterdir()] == [final.name]
    assert {p.name for p in final.iterdir()} == {"model", STATE_FILE}
    state = torch.load(final / STATE_FILE, weights_only=True)
    assert set(state) == {"step", "optimizer", "scheduler", "rng", "batches"} and state["step"] == 10
    log, uninterrupted = (read_log(tmp_path / run / "log.jsonl") for run in ("killed", "whole"))
    assert [r["step"] for r in log if "loss" in r] == [2, 4, 6, 8, 10], "step 8 of the killed run is logged once"
    assert all(r["model"] == "line" and {"scale", "lr", "seconds"} <= set(r) for r in log if "loss" in r)
    assert [{k: v for k, v in r.items() if "seconds" not in k} for r in log] == [
        {k: v for k, v in r.items() if "seconds" not in k} for r in uninterrupted
    ]
    assert log[-1]["step"] == 10 and "w" in log[-1]["eval"]


def test_resume_without_a_checkpoint_names_the_folder(tmp_path):
    model = _Line()
    loop = TrainingLoop(
        make_accelerator(), model, torch.optim.SGD(model.parameters(), lr=0.1), out_dir=tmp_path, name="line",
        total_steps=1,
    )  # fmt: skip
    assert not loop.resume()
    with pytest.raises(FileNotFoundError, match="checkpoints/line"):
        loop.resume(required=True)
