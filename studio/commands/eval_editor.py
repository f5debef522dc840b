"""`studio eval-editor`: measure the editor and the anonymizer on the benchmark's held-out subjects."""

from __future__ import annotations

from generators.settings import ANONYMIZE, EDIT, FAITHFUL_EDITS, METHODS

NAME = "eval-editor"
HELP = "identity, attribute and motion kept by edits; identity left by the anonymizer vs baselines (judge-scored)"


# each part's default settings and what its --PART-method help says of the default
_PARTS = {
    "edit": (EDIT, "DDIM inversion or noising (default {})"),
    "anonymize": (ANONYMIZE, "the anonymizer's (default {}: regenerated from fresh noise at strength 1)"),
}


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def add_arguments(parser):
    parser.add_argument("--data", required=True, help="benchmark dataset (OpenGait layout, CASIA-B names)")
    parser.add_argument("--partition", help="partition JSON (default DATA/partition.json); TEST_SET is used")
    parser.add_argument("--out", required=True, help="results JSON")
    parser.add_argument("--subjects", type=int, default=50, help="test subjects to use (default 50)")
    parser.add_argument("--views", type=_names, help="comma-separated views to draw sources from (default: all)")
    parser.add_argument("--views-per-subject", type=int, default=3, help="source clips per subject (default 3)")
    parser.add_argument("--probe-condition", default="nm-05", help="condition of the source clips (default nm-05)")
    parser.add_argument("--view-shift", type=float, default=54.0, help="degrees of the view edit (default 54)")
    for part, (settings, _) in _PARTS.items():
        parser.add_argument(
            f"--{part}-strength",
            type=float,
            default=settings.strength,
            help=f"{part} strength (default {settings.strength})",
        )
    parser.add_argument("--steps", type=int, default=20, help="sampler steps (default 20)")
    parser.add_argument("--guidance", type=float, default=2.0, help="classifier-free guidance (default 2)")
    parser.add_argument(
        "--identity-guidance", type=float, help="the identity's own guidance scale (default: --guidance)"
    )
    parser.add_argument(
        "--edit-conditioner-guidance",
        type=float,
        default=EDIT.conditioner_guidance,
        help="steer each edit toward its source person along the conditioner's gradient (never the judge's);"
        f" 0 = off (default {EDIT.conditioner_guidance})",
    )
    parser.add_argument(
        "--covariate-shift",
        type=float,
        default=EDIT.covariate_shift,
        help="how far steering moves its target to the edit's covariates, in covariate-mean shifts"
        f" (default {EDIT.covariate_shift:g})",
    )
    parser.add_argument(
        "--faithful",
        action="store_true",
        help="each edit kind at its own steered setting (generators.settings.FAITHFUL_EDITS), instead of"
        " --edit-strength / --guidance / --edit-conditioner-guidance",
    )
    parser.add_argument(
        "--weights", help="generator pipeline folder or bundled name to evaluate (default: the bundled one)"
    )
    for part, (settings, method_help) in _PARTS.items():
        parser.add_argument(
            f"--{part}-method", choices=METHODS, default=settings.method, help=method_help.format(settings.method)
        )
    parser.add_argument("--max-attempts", type=int, default=3, help="anonymizer retries while it leaks (default 3)")
    parser.add_argument(
        "--baseline-strengths", type=_floats, default=[0.5, 1.0], help="blur / morphology strengths (default 0.5,1)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--parts", type=_names, default=["edit", "anonymize"], help="edit and / or anonymize (default both)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--bf16", action="store_true", help="generate under bfloat16 autocast (about 2x faster on CPUs with AMX)"
    )


def run(args) -> int:
    import torch

    from studio.jobs.edit_dataset import load_editor
    from studio.jobs.evaluate_editor import evaluate_editor, format_editor_report

    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        result = _evaluate(args, load_editor, evaluate_editor)
    print(format_editor_report(result))
    print(f"results in {args.out}")
    return 0


def _evaluate(args, load_editor, evaluate_editor) -> dict:
    return evaluate_editor(
        args.data,
        args.out,
        editor=load_editor(with_judge=True, generator=args.weights) if args.weights else None,
        partition=args.partition,
        subjects=args.subjects,
        views=args.views,
        views_per_subject=args.views_per_subject,
        probe_condition=args.probe_condition,
        view_shift=args.view_shift,
        edit_strength=args.edit_strength,
        anonymize_strength=args.anonymize_strength,
        steps=args.steps,
        guidance=args.guidance,
        identity_guidance=args.identity_guidance,
        edit_method=args.edit_method,
        anonymize_method=args.anonymize_method,
        max_attempts=args.max_attempts,
        baseline_strengths=args.baseline_strengths,
        seed=args.seed,
        parts=args.parts,
        progress=not args.no_progress,
        edit_conditioner_guidance=args.edit_conditioner_guidance,
        edit_settings=FAITHFUL_EDITS if args.faithful else None,
        edit_covariate_shift=args.covariate_shift,
    )
