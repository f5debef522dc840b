"""Training of the recognizers and the covariate classifier, through the one training loop.

The optimisation steps, the progress bar, the log, evaluation on the way and checkpoints are
`gaitdata.training_loop.TrainingLoop`'s (on accelerate: one CPU with no set-up, several GPUs under
`accelerate launch`), the same loop the generators train with. Here: what a recognizer is built
from (config sections), its losses on P×K batches, its LR schedule, the curves. Evaluation comes
in as a callback (`evaluate_fn`), so this module never imports `evaluation`.

Output folder of `train_recognizer` (the checkpoint layout is the loop's, by the name "recognizer"):
    config.json                          the training config as run (with the overrides applied)
    log.jsonl                            one JSON record per logged step / evaluation
    curves.png                           loss and rank-1 curves
    checkpoints/recognizer/step-N/       model/ (save_pretrained) + training_state.pt (optimizer,
                                         scheduler, RNGs, the batch sampler's random states)
    model/                               the final weights (a folder `from_pretrained` reads)
A run of the layout before (`checkpoints/step-N/`) is moved into this one when it is resumed.
`train_covariate_classifier` writes `log.jsonl` and `model/` (no checkpoints: it takes seconds).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gaitdata.runtime import make_accelerator
from gaitdata.training_loop import STATE_FILE, TrainingLoop, checkpoints_folder, read_log, step_folders
from gaitdata.training_loop import latest_checkpoint as latest_checkpoint_of
from recognizers.covariates import CovariateClassifier, covariate_targets
from recognizers.augment import ClipAugment
from recognizers.data import ClipBatches, ClipStore, sample_clip
from recognizers.gaitbase import GaitBase
from recognizers.gaitset import GaitSet
from recognizers.geinet import GEINet
from recognizers.losses import LossAggregator

logger = logging.getLogger(__name__)

RECOGNIZER_TYPES = {"GaitBase": GaitBase, "GaitSet": GaitSet, "GEINet": GEINet}
NAME = "recognizer"  # the model's name in the run folder's log and checkpoints
COVARIATE_HEADS = ("view", "clothing", "carrying")


def read_config(path: str | os.PathLike) -> dict:
    """A training config (JSON, OpenGait-style sections: model, loss, sampler, transform, optimizer,
    scheduler, trainer, evaluator)."""
    config = json.loads(Path(path).read_text())
    if "model" not in config or "type" not in config["model"]:
        raise ValueError(f"{path}: the config needs a 'model' section with a 'type'")
    return config


def build_recognizer(model_config: dict, class_num: int):
    """A fresh recognizer from the config's `model` section; `class_num` = training identities."""
    kwargs = {k: v for k, v in model_config.items() if k != "type"}
    kind = model_config["type"]
    if kind not in RECOGNIZER_TYPES:
        raise ValueError(f"model type must be one of {sorted(RECOGNIZER_TYPES)}, got {kind!r}")
    for key, value in kwargs.items():
        if isinstance(value, list):
            kwargs[key] = tuple(value)
    return RECOGNIZER_TYPES[kind](**kwargs, class_num=class_num)


def initialise_from(model: torch.nn.Module, model_config: dict, init: torch.nn.Module, init_name: str) -> list[str]:
    """Copy a trained recognizer's weights into `model`, all but its classifier head (which
    depends on the number of training identities and is left freshly initialised).

    Args:
        model: the fresh model the config builds (`build_recognizer`).
        model_config: the config's `model` section it was built from.
        init: the trained recognizer (e.g. `recognizers.load_recognizer("gaitbase-walkers")`).
        init_name: how the user named it, for the error.

    Returns:
        The names of the parameters left freshly initialised (the head).

    Raises:
        ValueError: `init` is another architecture or size than the config builds (both named).
    """
    own, theirs = model.state_dict(), init.state_dict()
    probe = build_recognizer(model_config, class_num=model.config.class_num + 1).state_dict()
    head = sorted(k for k in own if own[k].shape != probe[k].shape)  # the weights class_num shapes
    mine, other = _architecture(model.config), _architecture(init.config)
    same = type(init) is type(model) and all(
        k in theirs and theirs[k].shape == v.shape for k, v in own.items() if k not in head
    )
    if not same or mine != other:
        raise ValueError(
            f"--init {init_name} is a {type(init).__name__}({_describe(other)}), but the config builds a "
            f"{type(model).__name__}({_describe(mine)}): fine-tuning needs the same architecture and size"
        )
    model.load_state_dict({k: (own[k] if k in head else theirs[k]) for k in own})
    return head


def _architecture(config) -> dict:
    """A model config's size and shape: every constructor argument but `class_num` (lists as tuples)."""
    return {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in config.items()
        if k != "class_num" and not k.startswith("_")
    }


def _describe(config: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(config.items()))


def build_optimizer(model: torch.nn.Module, config: dict) -> torch.optim.Optimizer:
    kind = config.get("type", "adamw").lower()
    lr, wd = config.get("lr", 1e-3), config.get("weight_decay", 5e-4)
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=config.get("momentum", 0.9), weight_decay=wd)
    if kind == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    if kind == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    raise ValueError(f"optimizer type must be 'sgd', 'adam' or 'adamw', got {kind!r}")


def lr_schedule(config: dict, total_steps: int) -> Callable[[int], float]:
    """The config's `scheduler` section as step → LR factor: linear warm-up, then steps down by
    `gamma` at `milestones` given as fractions of the run (so `--steps` rescales the schedule),
    or a cosine decay."""
    warmup = config.get("warmup_steps", 0)
    kind = config.get("type", "multistep")
    milestones = [round(f * total_steps) for f in config.get("milestones", [0.6, 0.85])]
    gamma = config.get("gamma", 0.1)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if kind == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total_steps - warmup))))
        return gamma ** sum(step >= m for m in milestones)

    return factor


def latest_checkpoint(out_dir: str | os.PathLike) -> Path | None:
    """The newest checkpoint of a recognizer run (`checkpoints/recognizer/step-N/`, or one of the
    layout before, `checkpoints/step-N/`, which resuming moves), or None."""
    old = step_folders(Path(out_dir) / "checkpoints")
    return latest_checkpoint_of(out_dir, NAME) or (old[-1] if old else None)


def _adopt_old_checkpoints(out_dir: Path) -> None:
    """Move checkpoints of the layout before (`checkpoints/step-N/`, the RNG as "torch_rng") into
    the loop's (`checkpoints/recognizer/step-N/`, "rng"), so that such a run resumes."""
    old = step_folders(out_dir / "checkpoints")
    if not old or latest_checkpoint_of(out_dir, NAME) is not None:
        return
    root = checkpoints_folder(out_dir, NAME)
    root.mkdir(parents=True, exist_ok=True)
    for folder in old:
        state = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=True)
        if "torch_rng" in state:
            state["rng"] = {"torch": state.pop("torch_rng")}
            torch.save(state, folder / STATE_FILE)
        folder.rename(root / folder.name)
    logger.info("moved %d checkpoint(s) of the layout before into %s", len(old), root)


def plot_training_curves(log_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Loss terms against step (left) and every evaluated rank-1 against step (right), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_log(log_path)
    fig, (ax_loss, ax_eval) = plt.subplots(1, 2, figsize=(11, 4))
    train = [r for r in records if "loss" in r]
    for key in ("loss", "triplet", "ce"):
        points = [(r["step"], r[key]) for r in train if key in r]
        if points:
            ax_loss.plot(*zip(*points, strict=True), label=key)
    ax_loss.set(xlabel="step", ylabel="loss", title="training loss")
    ax_loss.legend()
    evals = [r for r in records if "eval" in r]
    for key in sorted({k for r in evals for k in r["eval"]}):
        points = [(r["step"], r["eval"][key]) for r in evals if key in r["eval"]]
        ax_eval.plot(*zip(*points, strict=True), marker="o", label=key)
    ax_eval.set(xlabel="step", ylabel="rank-1 (%)", title="evaluation")
    if evals:
        ax_eval.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def train_recognizer(
    config: dict,
    train_store: ClipStore,
    out_dir: str | os.PathLike,
    steps: int | None = None,
    seed: int | None = None,
    resume: bool = False,
    evaluate_fn: Callable[[torch.nn.Module], dict] | None = None,
    progress: bool = True,
    init: str | os.PathLike | None = None,
):
    """Train a recognizer with triplet + cross-entropy losses on P×K batches of clips.

    Args:
        config: a training config (see `read_config`; `configs/recognizers/*.json`).
        train_store: the training sequences (`recognizers.data.load_clip_store`).
        out_dir: where logs, checkpoints and the final `model/` go (layout in the module docstring).
        steps: total optimisation steps (overrides `trainer.total_steps`).
        seed: overrides `trainer.seed`; seeds the model's initialisation and every random draw.
        resume: continue from the latest checkpoint in `out_dir` (refused if there is none).
        evaluate_fn: called with the (unwrapped, eval-mode) model every `trainer.eval_every`
            steps and at the end; returns `{name: number}` (e.g. rank-1 per condition) to log.
        progress: show a tqdm bar.
        init: fine-tune: start from these trained weights (a bundled name such as
            "gaitbase-walkers", or a model folder) instead of a random initialisation; the
            classifier head is new (sized for `train_store`'s identities). Must be the
            architecture and size the config builds. Ignored when resuming (the checkpoint has it).

    Returns:
        The trained model (unwrapped, in eval mode); its weights are in `out_dir/model`.

    Raises:
        ValueError: `init` is another architecture or size (both named).
    """
    from accelerate.utils import set_seed

    config = copy.deepcopy(config)
    trainer = config.setdefault("trainer", {})
    if steps is not None:
        trainer["total_steps"] = steps
    if seed is not None:
        trainer["seed"] = seed
    total_steps, seed = trainer.get("total_steps", 3000), trainer.get("seed", 0)
    out_dir = Path(out_dir)

    accelerator = make_accelerator(trainer.get("mixed_precision", "no"))
    set_seed(seed)
    sampler_cfg, transform_cfg = config.get("sampler", {}), config.get("transform", {})
    batches = ClipBatches(
        train_store,
        p=sampler_cfg.get("p", 8),
        k=sampler_cfg.get("k", 4),
        frames=sampler_cfg.get("frames", 30),
        sample_type=sampler_cfg.get("sample_type", "contiguous"),
        augment=ClipAugment.from_config(transform_cfg),
        seed=seed * 1000 + accelerator.process_index,  # each process draws its own batches
    )
    model = build_recognizer(config["model"], class_num=len(batches.classes))
    if init is not None and not resume:
        from recognizers import load_recognizer

        head = initialise_from(model, config["model"], load_recognizer(init), str(init))
        trainer["init"] = str(init)
        logger.info("initialised from %s; new classifier head: %s", init, ", ".join(head))
    criterion = LossAggregator(**config.get("loss", {}))
    optimizer = build_optimizer(model, config.get("optimizer", {}))
    loop = TrainingLoop(
        accelerator,
        model,
        optimizer,
        out_dir=out_dir,
        name=NAME,
        total_steps=total_steps,
        lr_factor=lr_schedule(config.get("scheduler", {}), total_steps),
        log_every=trainer.get("log_every", 20),
        checkpoint_every=trainer.get("save_every", 500),
        state={"batches": batches},  # its random states: a resumed run draws what an uninterrupted one would
        progress=progress,
    )
    if resume:
        if accelerator.is_main_process:
            _adopt_old_checkpoints(out_dir)
        accelerator.wait_for_everyone()
        loop.resume(required=True)
    elif accelerator.is_main_process:
        if out_dir.exists() and any(out_dir.iterdir()):
            raise FileExistsError(f"{out_dir} is not empty: pass --resume to continue it, or choose a new --out")
        out_dir.mkdir(parents=True, exist_ok=True)
    if accelerator.is_main_process:
        (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    def compute_loss(model, batch):
        clips, labels = batch  # [n, s, h, w], [n]
        return criterion(model(clips), labels)

    loop.run(batches, compute_loss, evaluate=evaluate_fn, evaluate_every=trainer.get("eval_every", 0))
    model.eval()
    if accelerator.is_main_process:
        model.save_pretrained(out_dir / "model")
        plot_training_curves(loop.log_path, out_dir / "curves.png")
    return model


def train_covariate_classifier(
    judge,
    train_store: ClipStore,
    out_dir: str | os.PathLike,
    config: dict,
    seed: int = 0,
    progress: bool = True,
) -> CovariateClassifier:
    """Train the covariate heads on frozen judge embeddings of random training clips.

    Args:
        judge: a trained recognizer (its `embed` gives the features).
        train_store: training sequences, labelled by condition and view names.
        out_dir: the classifier is saved to `out_dir/model`, its log to `out_dir/log.jsonl`.
        config: `model` (CovariateClassifier arguments besides the shapes), `clips_per_sequence`,
            `frames`, `steps`, `batch_size`, `lr`, and `judge` (the name stored in the classifier).
        seed: seeds initialisation, clip draws and batches.

    Returns:
        The trained classifier, in eval mode.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames, copies = config.get("frames", 30), config.get("clips_per_sequence", 2)
    # judge features of `copies` random clips per sequence: the heads see what generated clips look like
    clips, conditions, views = [], [], []
    for i, seq in enumerate(train_store.frames):
        for _ in range(copies):
            clips.append(sample_clip(seq, min(frames, len(seq)), "contiguous", rng))
            conditions.append(train_store.conditions[i])
            views.append(train_store.views[i])
    features = judge.embed(clips, bf16=config.get("bf16", True), progress=progress)  # [N, c, p]
    model_cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in config.get("model", {}).items() if k != "type"}
    judge_name = config.get("judge", "gaitset-walkers")
    _, channels, parts = features.shape
    classifier = CovariateClassifier(in_channels=channels, parts_num=parts, judge=judge_name, **model_cfg)
    cfg = classifier.config
    targets = covariate_targets(
        conditions, views, cfg.view_angles, cfg.clothing_classes, cfg.carrying_classes, cfg.condition_map
    )
    keep = np.ones(len(conditions), bool)
    for target in targets.values():
        keep &= target >= 0
    if not keep.any():
        raise ValueError("no training sequence has a view and condition the covariate classifier knows")
    x = torch.from_numpy(features[keep])
    y = {k: torch.from_numpy(v[keep]) for k, v in targets.items()}
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=config.get("lr", 1e-3), weight_decay=1e-3)
    steps, batch_size = config.get("steps", 2000), config.get("batch_size", 256)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)

    def feature_batches():  # endless: random training features and their three targets
        while True:
            index = torch.randint(len(x), (batch_size,), generator=generator)
            yield x[index], {k: y[k][index] for k in COVARIATE_HEADS}

    def compute_loss(model, batch):
        inputs, labels = batch  # [b, c, p] judge features, {head: [b]}
        out = model(inputs)
        losses = {k: loss_fn(getattr(out, k), labels[k]) for k in COVARIATE_HEADS}
        return sum(losses.values()), {k: v.item() for k, v in losses.items()}

    (out_dir / "log.jsonl").write_text("")
    loop = TrainingLoop(
        make_accelerator("no"),
        classifier,
        optimizer,
        out_dir=out_dir,
        name="covariate-classifier",
        total_steps=steps,
        lr_factor=lambda step: 0.5 * (1 + math.cos(math.pi * step / steps)),  # cosine annealing to 0
        log_every=100,
        keep_checkpoints=0,
        progress=progress,
    )
    loop.run(feature_batches(), compute_loss)
    classifier.eval()
    classifier.save_pretrained(out_dir / "model")
    return classifier
