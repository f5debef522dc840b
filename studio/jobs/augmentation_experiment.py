"""The augmentation experiment (GaitCrafter / GaitEditor): can generated clips teach a recognizer
a condition it never saw?

For each setting (`no-cl`: the training subjects' CL clips are withheld; `no-bg`: their BG
clips), the same recognizer is trained with the same budget (steps, P×K batch, seed) on:

1. `real` — the real training clips without the missing condition (the baseline);
2. `walker-pretrained` — the same clips, the recognizer fine-tuned from walker-trained weights
   (`config["pretrained"]`: a model folder or bundled name; default the bundled walker
   recognizer of the config's architecture; a new classifier head);
3. `real+edited` — plus the training subjects' own NM clips edited into the missing condition
   by `GaitEditor` (identity and motion kept, clothing / carrying changed);
4. `real+edited+novel` — plus novel synthetic people in every condition (`synthesize_dataset`).

So the table shows the three ways a researcher can use the studio on their data: walker
pretraining, generated edits of their own people, novel people.

Every arm is scored on the REAL test subjects with the CASIA-B protocol. Each trained arm and
each generated set is kept in `out_dir`, so a killed run resumes where it stopped.

Caveat stated in every result: the bundled generator was trained on all walker training
clips, CL and BG included, so "the recognizer never saw a coat" holds, "the system never saw a
coat" does not (the same holds for GaitEditor and GaitCrafter). On the walker benchmark itself,
the bundled walker recognizers were trained on the same training subjects in every condition:
give `pretrained` weights trained on OTHER walkers (e.g. `studio synth-data --subjects 300
--seed 1`) for a clean `walker-pretrained` arm there; on real data the bundled ones are clean.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np

from evaluation.protocols import CasiaBProtocol
from gaitdata import read_partition
from gaitdata.atomic import atomic_write_text, ensure_outside
from gaitdata.casia_b import CONDITION_TYPES, CONDITIONS

logger = logging.getLogger(__name__)

SETTINGS = {"no-cl": "cl", "no-bg": "bg"}
ARMS = ("real", "walker-pretrained", "real+edited", "real+edited+novel")
DEFAULT_ARMS = ("real", "real+edited", "real+edited+novel")  # walker-pretrained: asked for by name
BUNDLED_PRETRAINED = {"GaitBase": "gaitbase-walkers", "GaitSet": "gaitset-walkers", "GEINet": "geinet-attacker-walkers"}
CAVEAT = (
    "the generator was trained on all walker training clips (every condition): the recognizer never saw "
    "the missing condition of its training subjects, the generator did"
)


def read_experiment_config(path: str | os.PathLike) -> dict:
    """An experiment config: `recognizer` (a training config), `edit`, `novel`, `evaluation` sections."""
    config = json.loads(Path(path).read_text())
    for section in ("recognizer", "edit", "novel", "evaluation"):
        if section not in config:
            raise ValueError(f"{path}: the experiment config needs a '{section}' section")
    return config


def _edited_set(editor, data_root: Path, partition_path: Path, out_root: Path, missing: str, edit: dict, progress):
    from studio.jobs.edit_dataset import augment_dataset

    return augment_dataset(
        editor,
        data_root,
        partition_path,
        out_root,
        add_conditions=(missing,),
        views=edit.get("views"),
        strength=edit.get("strength", 0.8),
        seed=edit.get("seed", 0),
        steps=edit.get("steps", 20),
        guidance=edit.get("guidance", 2.0),
        sources=tuple(edit.get("sources", ("nm-01", "nm-02"))),
        progress=progress,
    )


def _novel_set(pipeline, out_root: Path, novel: dict, views: list[str], progress):
    from studio.jobs.synthesize import IDENTITY_NOISE, synthesize_dataset

    share = novel.get("identity_noise", IDENTITY_NOISE)
    if (out_root / "manifest.json").is_file():
        manifest = json.loads((out_root / "manifest.json").read_text())
        made = manifest["settings"].get("identity_noise", 0.0)  # sets from before the option drew clips apart
        if made != share:
            raise ValueError(
                f"{out_root}: its novel people were made with identity_noise {made}, the config asks for "
                f"{share}; move the set (and the novel arm's runs) aside or use another experiment folder"
            )
        return manifest
    tmp = out_root.with_name(out_root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    manifest = synthesize_dataset(
        pipeline,
        tmp,
        novel.get("identities", 20),
        novel.get("views", views),
        novel.get("conditions", list(CONDITION_TYPES)),
        seed=novel.get("seed", 0),
        num_frames=novel.get("frames", 30),
        steps=novel.get("steps", 20),
        progress=progress,
        identity_noise=share,
    )
    tmp.rename(out_root)  # a half-written set never passes for a finished one
    return manifest


def _train_and_score(
    config: dict, store, run_dir: Path, seed: int, steps: int, test, progress: bool, init: str | None = None
) -> dict:
    """Train one arm (resuming from its last checkpoint; from `init`'s weights when given) and
    score it on the real test split."""
    from recognizers.training import latest_checkpoint, train_recognizer

    result_path = run_dir / "result.json"
    if result_path.is_file():
        result = json.loads(result_path.read_text())
        if result.get("steps") != steps or result.get("seed") != seed:
            raise ValueError(
                f"{run_dir}: holds a run of {result.get('steps')} steps, seed {result.get('seed')}, not {steps} "
                f"steps, seed {seed}; arms of one table share one budget, so use another experiment folder"
            )
        return result
    resume = latest_checkpoint(run_dir) is not None
    if not resume and run_dir.exists():
        shutil.rmtree(run_dir)  # an arm killed before its first checkpoint starts over
    started = time.time()
    model = train_recognizer(
        config, store, run_dir, steps=steps, seed=seed, resume=resume, progress=progress, init=init
    )
    train_seconds = time.time() - started
    bf16 = config.get("trainer", {}).get("mixed_precision") == "bf16"
    embeddings = model.embed(test.frames, max_frames=None, bf16=bf16, progress=progress)
    scores = CasiaBProtocol().evaluate(embeddings, test.labels)
    result = {
        "seed": seed,
        "steps": steps,
        "training_sequences": len(store),
        "training_subjects": len(set(store.subjects)),
        "rank1": {k: round(v, 2) for k, v in scores.mean.items()},
        "per_view": scores.to_dict(),
        "train_seconds": round(train_seconds, 1),
    }
    if init is not None:
        result["init"] = init
    atomic_write_text(result_path, json.dumps(result, indent=1) + "\n")
    return result


def run_augmentation_experiment(
    data_root: str | os.PathLike,
    partition_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    config: dict,
    settings: tuple[str, ...] = ("no-cl",),
    seeds: tuple[int, ...] = (0,),
    arms: tuple[str, ...] = DEFAULT_ARMS,
    steps: int | None = None,
    editor=None,
    pipeline=None,
    progress: bool = True,
) -> dict:
    """Run (or resume) the experiment and write `results.json` and `results.md` into `out_dir`.

    Args:
        data_root: the real dataset (OpenGait layout, CASIA-B condition names).
        partition_path: its partition JSON; TRAIN_SET trains every arm, TEST_SET scores it.
        out_dir: where generated sets, trained arms and results go (never inside `data_root`).
        config: `read_experiment_config`'s dict.
        settings: which condition to withhold: `no-cl`, `no-bg`.
        seeds: one training run per seed and arm (same seeds for every arm).
        arms: a subset of `ARMS`, in that order (default `DEFAULT_ARMS`: all but
            `walker-pretrained`, which needs weights trained on other people to be clean on the
            walker benchmark).
        steps: training steps per arm (default: the recognizer config's `trainer.total_steps`).
        editor, pipeline: the `GaitEditor` and generation pipeline (default: the bundled ones).

    Returns:
        `{"settings": {setting: {arm: {"runs": [...], "mean": {NM, BG, CL}}}}, ...}` (as written).
    """
    from recognizers.data import concat_clip_stores, load_clip_store

    data_root, partition_path, out_dir = Path(data_root), Path(partition_path), Path(out_dir)
    unknown = [s for s in settings if s not in SETTINGS] + [a for a in arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown setting / arm {unknown}: settings are {list(SETTINGS)}, arms {list(ARMS)}")
    ensure_outside(out_dir, data_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    partition = read_partition(partition_path)
    recognizer_config = config["recognizer"]
    steps = steps or recognizer_config.get("trainer", {}).get("total_steps", 1000)
    max_frames = config["evaluation"].get("max_frames", 30)
    test_conditions = list(CONDITIONS)  # the gallery and every probe
    test = load_clip_store(
        data_root, subjects=partition.test, max_frames=max_frames, progress=progress, conditions=test_conditions
    )
    if not len(test):
        raise ValueError(f"{data_root}: no readable test clips of {', '.join(test_conditions)}")
    views = sorted(set(test.views))
    needs_generator = any(a not in ("real", "walker-pretrained") for a in arms)
    pretrained = None
    if "walker-pretrained" in arms:
        kind = recognizer_config["model"]["type"]
        pretrained = str(config.get("pretrained") or BUNDLED_PRETRAINED.get(kind, ""))
        if not pretrained:
            raise ValueError(f"the walker-pretrained arm needs 'pretrained' weights for a {kind} in the config")
    if needs_generator and editor is None:
        from studio.jobs.edit_dataset import load_editor

        editor = load_editor(with_judge=False)
    if needs_generator and pipeline is None:
        pipeline = editor.pipeline

    for setting in settings:
        missing = SETTINGS[setting]
        kept = [c for c in CONDITION_TYPES if c != missing]
        real = load_clip_store(data_root, subjects=partition.train, max_frames=500, progress=progress, conditions=kept)
        stores = {"real": real, "walker-pretrained": real}
        if "real+edited" in arms or "real+edited+novel" in arms:
            edited_root = out_dir / "generated" / f"edited-{missing}"
            _edited_set(editor, data_root, partition_path, edited_root, missing, config["edit"], progress)
            edited = load_clip_store(edited_root, progress=progress, conditions=[missing])
            stores["real+edited"] = concat_clip_stores(real, edited)
        if "real+edited+novel" in arms:
            novel_root = out_dir / "generated" / "novel"
            _novel_set(pipeline, novel_root, config["novel"], views, None)
            novel = load_clip_store(novel_root, progress=progress)
            stores["real+edited+novel"] = concat_clip_stores(stores["real+edited"], novel)
        for arm in arms:
            for seed in seeds:
                logger.info("%s / %s / seed %d: %d training sequences", setting, arm, seed, len(stores[arm]))
                run_dir = _run_dir(out_dir, setting, arm, seed)
                init = pretrained if arm == "walker-pretrained" else None
                _train_and_score(recognizer_config, stores[arm], run_dir, seed, steps, test, progress, init)

    results = collect_results(out_dir, data_root, steps)
    atomic_write_text(out_dir / "results.json", json.dumps(results, indent=1) + "\n")
    atomic_write_text(out_dir / "results.md", format_results(results))
    return results


def _run_dir(out_dir: Path, setting: str, arm: str, seed: int) -> Path:
    return out_dir / setting / arm.replace("+", "_") / f"seed-{seed}"


def collect_results(out_dir: str | os.PathLike, data_root: str | os.PathLike, steps: int) -> dict:
    """Every finished arm run in `out_dir` with this step budget, whichever invocation trained it.

    Runs of one experiment folder may come from several invocations (one per setting or seed,
    even at the same time on different cores), so the table is gathered from the runs on disk
    rather than from what this invocation trained.
    """
    out_dir = Path(out_dir)
    results = {"data": str(data_root), "steps": steps, "seeds": [], "caveat": CAVEAT, "settings": {}}
    seeds = set()
    for setting, missing in SETTINGS.items():
        arms = {}
        for arm in ARMS:
            runs = []
            for path in sorted(_run_dir(out_dir, setting, arm, 0).parent.glob("seed-*/result.json")):
                run = json.loads(path.read_text())
                if run.get("steps") != steps:
                    logger.warning("%s: %s steps, not %d; left out of the table", path, run.get("steps"), steps)
                    continue
                runs.append(run)
            if not runs:
                continue
            runs.sort(key=lambda r: r["seed"])
            seeds.update(r["seed"] for r in runs)
            mean = {k: round(float(np.mean([r["rank1"][k] for r in runs])), 2) for k in runs[0]["rank1"]}
            spread = {k: round(float(np.std([r["rank1"][k] for r in runs])), 2) for k in runs[0]["rank1"]}
            arms[arm] = {"runs": runs, "mean": mean, "std": spread}
        if not arms:
            continue
        _add_gains(arms)
        generated = {}
        for name, folder in ((f"edited-{missing}", f"edited-{missing}"), ("novel", "novel")):
            manifest = out_dir / "generated" / folder / "manifest.json"
            if manifest.is_file() and (name == "novel" or "real+edited" in arms):
                generated[name] = _summary(json.loads(manifest.read_text()))
        if "real+edited+novel" not in arms:
            generated.pop("novel", None)
        results["settings"][setting] = {"withheld": missing, "arms": arms, "generated": generated}
    results["seeds"] = sorted(seeds)
    return results


def _add_gains(arms: dict) -> None:
    """Each arm's gain over the `real` arm, seed by seed (paired: same seed, same initial weights)."""
    base = arms.get("real")
    if not base:
        return
    base_runs = {r["seed"]: r["rank1"] for r in base["runs"]}
    for entry in arms.values():
        paired = [(r["rank1"], base_runs[r["seed"]]) for r in entry["runs"] if r["seed"] in base_runs]
        entry["paired_gain_over_real"] = {k: [round(run[k] - ref[k], 2) for run, ref in paired] for k in entry["mean"]}
        # over the seeds both arms ran, so an arm with fewer seeds is not compared with another mean
        entry["gain_over_real"] = {
            k: round(float(np.mean(gains)), 2) if gains else round(entry["mean"][k] - base["mean"][k], 2)
            for k, gains in entry["paired_gain_over_real"].items()
        }


def _summary(manifest: dict) -> dict:
    summary = {k: v for k, v in manifest.items() if k in ("counts", "written", "skipped", "seconds")}
    if "sequences" in manifest:
        summary["clips"] = len(manifest["sequences"])
    return summary


def format_results(results: dict) -> str:
    """The rank-1 table of every setting and arm (Markdown), as the closing notes quote it."""
    lines = [
        f"Augmentation experiment on {results['data']} ({results['steps']} steps per arm, seeds {results['seeds']})",
        "",
    ]
    for setting, entry in results["settings"].items():
        lines += [f"### {setting} (training subjects' {entry['withheld'].upper()} clips withheld)", ""]
        lines += [
            "| arm | seeds | training clips | NM | BG | CL | gain NM | gain BG | gain CL (paired by seed) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for arm, arm_entry in entry["arms"].items():
            mean, std, gain = arm_entry["mean"], arm_entry["std"], arm_entry.get("gain_over_real", {})
            runs = arm_entry["runs"]
            cells = [
                ", ".join(str(r["seed"]) for r in runs),
                f"{runs[0]['training_sequences']:,}",
                *(f"{mean[k]:.1f} ± {std[k]:.1f}" for k in ("NM", "BG", "CL")),
                *(f"{gain.get(k, 0):+.1f}" for k in ("NM", "BG", "CL")),
            ]
            lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        lines += ["", "Per seed (NM / BG / CL):", ""]
        for arm, arm_entry in entry["arms"].items():
            for run in arm_entry["runs"]:
                r = run["rank1"]
                lines.append(f"- {arm}, seed {run['seed']}: {r['NM']:.2f} / {r['BG']:.2f} / {r['CL']:.2f}")
        lines.append("")
    lines.append(f"Caveat: {results['caveat']}.")
    return "\n".join(lines) + "\n"
