"""The one training loop of the project: recognizers and generators both train through it.

`TrainingLoop` owns what every training shares: the optimisation steps on accelerate (one CPU
with no set-up, several GPUs under `accelerate launch`), the learning-rate schedule (a factor of
the step), gradient clipping, the progress bar, the JSONL log, periodic evaluation, and
checkpoints that a killed run resumes from. What one step computes comes in as
`compute_loss(model, batch)`; the model does not know it is being trained.

One checkpoint layout for every model (a run folder may train several, each by its name):

    <out_dir>/log.jsonl                         one JSON record per logged step / evaluation,
                                                each with "model": <name> and "step"
    <out_dir>/checkpoints/<name>/step-NNNNNN/   written whole under a .tmp name, then renamed:
                                                a checkpoint folder exists only once complete
        model/                                  the model (`save_pretrained`, safetensors)
        <extra>/                                what `save_extra` adds (the denoiser: ema/)
        training_state.pt                       {"step", "optimizer", "scheduler", "rng" (torch,
                                                and CUDA when present), one entry per `state`
                                                object}: tensors and numbers only, read back
                                                with `weights_only=True`

The newest `keep_checkpoints` are kept while training, only the final one at the end.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

STATE_FILE = "training_state.pt"


def checkpoints_folder(out_dir: str | os.PathLike, name: str) -> Path:
    """Where the checkpoints of model `name` of a run go: `out_dir/checkpoints/<name>/`."""
    return Path(out_dir) / "checkpoints" / name


def step_folders(folder: str | os.PathLike) -> list[Path]:
    """The complete `step-N` checkpoints in `folder` (those holding a training state), oldest first."""
    found = [f for f in Path(folder).glob("step-*") if f.name.split("-")[1].isdigit() and (f / STATE_FILE).is_file()]
    return sorted(found, key=lambda f: int(f.name.split("-")[1]))


def latest_checkpoint(out_dir: str | os.PathLike, name: str) -> Path | None:
    """The newest complete checkpoint of model `name` in the run folder, or None."""
    folders = step_folders(checkpoints_folder(out_dir, name))
    return folders[-1] if folders else None


def append_log(path: str | os.PathLike, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def read_log(path: str | os.PathLike) -> list[dict]:
    """The records of a `log.jsonl` ([] when there is none)."""
    path = Path(path)
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


class TrainingLoop:
    """One model's training: build it, `resume()` if asked, then `run(batches, compute_loss)`.

    Args:
        accelerator: from `gaitdata.runtime.make_accelerator`; `run` prepares the model, the
            optimizer and a `DataLoader` with it (other iterables are moved to its device).
        model: the model to train, unprepared (`run` prepares it; the caller's reference stays
            the unwrapped model, which `state` and the hooks may use).
        optimizer: over `model.parameters()`.
        out_dir: the run folder (`log.jsonl`, `checkpoints/<name>/`; layout in the module docstring).
        name: the model's name in the log and the checkpoint folder ("recognizer", "denoiser", ...).
        total_steps: optimisation steps of the whole run (a resumed run continues to it).
        lr_factor: step → multiplier of the optimizer's learning rate (warm-up, decay); constant 1
            when None. Step 0 is the first step.
        log_every: steps averaged into one log record (loss, the extras, lr, seconds).
        checkpoint_every: steps between checkpoints (0: only the final one).
        keep_checkpoints: how many checkpoints are kept while training (0: none written at all).
        clip_grad: clip the gradient norm to this before each step.
        state: more objects with `state_dict` / `load_state_dict` saved in the training state
            (e.g. {"batches": the batch sampler, "ema": the EMA weights}), by name.
        save_extra: called with the checkpoint folder being written, to add folders of its own.
        progress: show a tqdm bar (on the main process only).
    """

    def __init__(
        self,
        accelerator,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        out_dir: str | os.PathLike,
        name: str,
        total_steps: int,
        lr_factor: Callable[[int], float] | None = None,
        log_every: int = 50,
        checkpoint_every: int = 500,
        keep_checkpoints: int = 2,
        clip_grad: float | None = None,
        state: dict | None = None,
        save_extra: Callable[[Path], None] | None = None,
        progress: bool = True,
    ):
        self.accelerator, self.model, self.optimizer = accelerator, model, optimizer
        self.out_dir, self.name, self.total_steps = Path(out_dir), name, total_steps
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor or (lambda step: 1.0))
        self.log_every, self.checkpoint_every, self.keep_checkpoints = log_every, checkpoint_every, keep_checkpoints
        self.clip_grad, self.state, self.save_extra, self.progress = clip_grad, state or {}, save_extra, progress
        self.log_path = self.out_dir / "log.jsonl"
        self.step = 0

    # ---- checkpoints -------------------------------------------------------------------

    def resume(self, required: bool = False) -> bool:
        """Restore the model, optimizer, schedule, RNGs and `state` from the latest checkpoint, and
        drop what an interrupted run logged for this model after it.

        Returns:
            Whether there was a checkpoint (`self.step` is then its step).

        Raises:
            FileNotFoundError: `required` and there is none (the folder named).
            ValueError: the checkpoint's model is another architecture than `model`.
        """
        checkpoint = latest_checkpoint(self.out_dir, self.name)
        if checkpoint is None:
            if required:
                raise FileNotFoundError(f"no checkpoint to resume in {checkpoints_folder(self.out_dir, self.name)}")
            return False
        try:
            self.model.load_state_dict(type(self.model).from_pretrained(checkpoint / "model").state_dict())
        except RuntimeError as err:
            message = f"{checkpoint / 'model'} is another architecture than this run's {self.name}: {err}"
            raise ValueError(message) from None
        saved = torch.load(checkpoint / STATE_FILE, map_location="cpu", weights_only=True)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        for key, obj in self.state.items():
            obj.load_state_dict(saved[key])
        rng = saved.get("rng", {})
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.step = int(saved["step"])
        if self.accelerator.is_main_process and self.log_path.is_file():
            records = read_log(self.log_path)  # records without "model" are of a run before the name was logged
            kept = [r for r in records if r.get("model", self.name) != self.name or r.get("step", 0) <= self.step]
            self.log_path.write_text("".join(json.dumps(r) + "\n" for r in kept))
        logger.info("resumed %s from %s (step %d)", self.name, checkpoint, self.step)
        return True

    def save_checkpoint(self, keep: int) -> Path:
        """Write `checkpoints/<name>/step-N/` for the current step; keep the newest `keep`."""
        root = checkpoints_folder(self.out_dir, self.name)
        folder = root / f"step-{self.step:06d}"
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.accelerator.unwrap_model(self.model).save_pretrained(tmp / "model")
        if self.save_extra is not None:
            self.save_extra(tmp)
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        saved = {
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng,
            **{key: obj.state_dict() for key, obj in self.state.items()},
        }
        torch.save(saved, tmp / STATE_FILE)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        for old in step_folders(root)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        return folder

    # ---- the loop ----------------------------------------------------------------------

    def run(
        self,
        batches: Iterable,
        compute_loss: Callable,
        *,
        after_step: Callable[[], None] | None = None,
        evaluate: Callable[[torch.nn.Module], dict] | None = None,
        evaluate_every: int = 0,
    ) -> float:
        """Train from `self.step` to `total_steps`, then evaluate once more.

        Args:
            batches: an iterable of batches (a `DataLoader`, or an endless sampler); it is
                iterated again whenever it ends before `total_steps`.
            compute_loss: (prepared model, batch on the device) → a scalar loss tensor, or
                (loss, {name: float}) whose numbers are averaged and logged beside it.
            after_step: called after each optimizer step (e.g. the EMA update).
            evaluate: the unwrapped model, in eval mode → {name: number}, logged as
                {"eval": ...} every `evaluate_every` steps and at the end (main process only).

        Returns:
            Seconds spent.
        """
        from accelerate.utils import send_to_device
        from torch.utils.data import DataLoader

        accelerator = self.accelerator
        if isinstance(batches, DataLoader):
            self.model, self.optimizer, batches = accelerator.prepare(self.model, self.optimizer, batches)
        else:
            self.model, self.optimizer = accelerator.prepare(self.model, self.optimizer)
        model, main = self.model, accelerator.is_main_process
        if main:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_path.touch()
        bar = tqdm(
            total=self.total_steps, initial=self.step, desc=self.name, unit="step", disable=not (self.progress and main)
        )
        started, running = time.time(), {}
        model.train()
        while self.step < self.total_steps:
            drawn = 0
            for batch in batches:
                drawn += 1
                loss = compute_loss(model, send_to_device(batch, accelerator.device))
                loss, extras = loss if isinstance(loss, tuple) else (loss, {})
                self.optimizer.zero_grad(set_to_none=True)
                accelerator.backward(loss)
                if self.clip_grad is not None:
                    accelerator.clip_grad_norm_(model.parameters(), self.clip_grad)
                self.optimizer.step()
                self.scheduler.step()
                if after_step is not None:
                    after_step()
                self.step += 1
                bar.update(1)
                for key, value in {"loss": loss.item(), **extras}.items():  # an extra may be missing from a step
                    total, count = running.get(key, (0.0, 0))
                    running[key] = (total + value, count + 1)
                final = self.step == self.total_steps
                if self.step % self.log_every == 0 or final:
                    record = {k: round(total / count, 5) for k, (total, count) in running.items()}
                    running = {}
                    bar.set_postfix(loss=f"{record['loss']:.4f}")
                    if main:
                        record.update(lr=self.scheduler.get_last_lr()[0], seconds=round(time.time() - started, 1))
                        append_log(self.log_path, {"model": self.name, "step": self.step, **record})
                if evaluate_every and self.step % evaluate_every == 0 and not final:
                    self._evaluate(evaluate)
                due = final or (self.checkpoint_every and self.step % self.checkpoint_every == 0)
                if due and self.keep_checkpoints and main:
                    self.save_checkpoint(keep=1 if final else self.keep_checkpoints)
                if final:
                    break
            if not drawn:
                raise ValueError(f"{self.name}: the training data gave no batch (fewer items than one batch?)")
        bar.close()
        accelerator.wait_for_everyone()
        self._evaluate(evaluate)
        return time.time() - started

    def _evaluate(self, evaluate) -> None:
        if evaluate is None or not self.accelerator.is_main_process:
            return
        unwrapped = self.accelerator.unwrap_model(self.model)
        unwrapped.eval()
        started = time.perf_counter()
        metrics = evaluate(unwrapped)
        unwrapped.train()
        seconds = round(time.perf_counter() - started, 1)
        append_log(self.log_path, {"model": self.name, "step": self.step, "eval": metrics, "eval_seconds": seconds})
        tqdm.write(f"step {self.step}: " + ", ".join(f"{k} {v:.1f}" for k, v in metrics.items()))
