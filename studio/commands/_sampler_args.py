"""The editing sub-commands' shared options (not a sub-command: `_` names are skipped by the CLI)."""

from __future__ import annotations

from generators.settings import METHODS, EditSettings


def add_sampler_arguments(parser, settings: EditSettings, strength_help: str, strength: float | None = None) -> None:
    """`--strength --steps --guidance --method`, defaulting to `settings` (`generators.settings`)."""
    strength = settings.strength if strength is None else strength
    parser.add_argument("--strength", type=float, default=strength, help=f"{strength_help} ({strength:g})")
    parser.add_argument("--steps", type=int, default=settings.steps, help=f"sampler steps ({settings.steps})")
    parser.add_argument(
        "--guidance",
        type=float,
        default=settings.guidance,
        help=f"classifier-free guidance scale ({settings.guidance:g})",
    )
    parser.add_argument(
        "--method", choices=METHODS, default=settings.method, help=f"DDIM inversion or noising ({settings.method})"
    )
