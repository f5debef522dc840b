"""Bundle a trained generator run as package weights with a model card.

The card states the data, the exact commands that reproduce the weights, the seeds, and every
score measured so far (training summary, and the judge-scored evaluation when it exists).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gaitdata.atomic import atomic_write_text
from generators.pipeline import GaitGenerationPipeline


def _pathways(denoiser: dict) -> str:
    parts = []
    if denoiser.get("reference_frames"):
        parts.append(f"{denoiser['reference_frames']} reference-clip tokens joining the self-attention")
    if denoiser.get("motion_dim"):
        parts.append(f"a per-frame motion signal ({denoiser['motion_dim']} numbers)")
    if denoiser.get("standardize_identity"):
        parts.append("the identity embedding standardised per dimension")
    return "; " + ", ".join(parts) if parts else ""


def _scores_section(summary: dict, evaluation: dict | None) -> str:
    ae = summary["autoencoder"]
    lines = [
        "## Measured",
        "",
        f"- autoencoder, held-out subjects' frames ({ae['frames']}): mean foreground IoU {ae['mean_iou']:.4f}"
        f" (median {ae['median_iou']:.4f}, 5th percentile {ae['p05_iou']:.4f}); "
        + (f"reused from `{ae['reused_from']}`" if "reused_from" in ae else f"trained in {ae['train_seconds']:.0f} s"),
        f"- denoiser: {summary['denoiser']['steps']} steps in {summary['denoiser']['train_seconds']:.0f} s",
        f"- training clips: {summary['training_clips']} of {summary['training_subjects']} subjects",
    ]
    if evaluation is None:
        lines.append("- judge-scored evaluation: not yet run (`studio eval-generator`)")
        return "\n".join(lines)
    lines += ["", "Judge-scored (never the conditioner), walker test subjects:", ""]
    lines += ["| probe | generated rank-1 | real rank-1 | ratio |", "|---|---|---|---|"]
    for name, row in evaluation["identity_preservation"].items():
        lines.append(f"| {name} | {row['generated_rank1']:.1f} | {row['real_rank1']:.1f} | {row['ratio']:.3f} |")
    cov, fr = evaluation["covariate_control"], evaluation["naturalness"]["frechet"]
    nov = evaluation["novel_identities"]
    lines += [
        "",
        f"- covariate control: view ±18° {cov['view_within_tolerance']:.1f}%, clothing {cov['clothing']:.1f}%,"
        f" carrying {cov['carrying']:.1f}%",
        f"- Fréchet (judge features): generated {fr['generated_vs_real']:.4f} vs real halves"
        f" {fr['real_vs_real']:.4f}, ratio {fr['ratio']:.2f}",
        f"- novel identities: {nov['distinct']}/{nov['identities']} distinct, self rank-1 {nov['self_rank1']}%",
    ]
    return "\n".join(lines)


def _editor_section(evaluation: dict | None, command: str | None) -> str:
    if evaluation is None:
        return ""
    from studio.jobs.evaluate_editor import format_editor_report

    how = f" (`{command}`)" if command else ""
    return f"""
### Edits and anonymization, judge-scored, with attackers the anonymizer never consulted{how}
```
{format_editor_report(evaluation)}
```
"""


def bundle_generator(
    run_dir: str | Path,
    dest: str | Path,
    command: str,
    evaluation: str | Path | None = None,
    config: str = "configs/generators/walkers.json",
    editor_evaluation: str | Path | None = None,
    editor_command: str | None = None,
    notes: str = "",
) -> Path:
    """Copy `run_dir/pipeline` to `dest` in float16 and write `dest/README.md` (the model card).

    Args:
        run_dir: a `studio train-generator` run folder (holds `pipeline/` and `summary.json`).
        dest: the bundled folder (replaced).
        command: the exact training command, for the card.
        evaluation: an `eval-generator` results JSON to quote (optional).
        config: the experiment config the run was made with (named on the card).
        editor_evaluation, editor_command: an `eval-editor` results JSON to quote, and its command.
        notes: more of the card (markdown), e.g. what falls short and why.
    """
    run_dir, dest = Path(run_dir), Path(dest)
    summary = json.loads((run_dir / "summary.json").read_text())
    results = json.loads(Path(evaluation).read_text()) if evaluation else None
    editor_results = json.loads(Path(editor_evaluation).read_text()) if editor_evaluation else None
    pipeline = GaitGenerationPipeline.from_pretrained(run_dir / "pipeline")
    if dest.exists():
        shutil.rmtree(dest)
    pipeline.save_pretrained(dest, half=True)
    recipe = summary["recipe"]
    card = f"""# Gait Studio generator: procedural walkers

Latent silhouette diffusion: a per-frame autoencoder (64×44 ↔ {recipe["autoencoder"]["latent_dim"]} numbers)
and a temporal transformer denoiser (width {recipe["denoiser"]["width"]}, depth {recipe["denoiser"]["depth"]},
adaLN-single conditioning{_pathways(recipe["denoiser"])}) over a clip's frame latents, sampled with
DPM-Solver and classifier-free guidance.
Weights stored in float16; they load as float32.

## Data
- `{summary["data"]}`: the walker benchmark's TRAIN_SET (74 subjects), rendered by
  `studio synth-data --out DATA --seed 0`;
- extra identities for the generator only: {", ".join(summary["extra_data"]) or "none"}
  (`studio synth-data --out EXTRA --subjects 300 --seed 1`).

Identity condition: the bundled CONDITIONER's (`{recipe["conditioner"]}`) embedding of another clip
of the same person. The judge that scores identity is a different network.

## Reproduce
```bash
{command}
```
Seeds: autoencoder {recipe["autoencoder"]["seed"]}, denoiser {recipe["denoiser"]["seed"]}; settings in
`{config}`.

{_scores_section(summary, results)}
{_editor_section(editor_results, editor_command)}
{notes}
"""
    atomic_write_text(dest / "README.md", card)
    return dest
