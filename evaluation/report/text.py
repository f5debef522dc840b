"""The report as text: its headline numbers (the rows the CLI prints and the page shows first, as
JSON paths into the report dict) and the one rule every number is written by."""

from __future__ import annotations


def headline(report: dict) -> list[dict]:
    """The report's key numbers: `{"label", "path", "value", "unit"}` rows (JSON paths into `report`).

    The CLI prints these and the HTML page shows them, both from the same dict.
    """
    rows = []

    def add(label, path, unit=""):
        value = report
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        rows.append({"label": label, "path": path, "value": value, "unit": unit})

    kind = report["kind"]
    identity = report["identity"]
    if kind == "anonymized" and report.get("leakage", {}).get("defined"):
        add("leakage rank-1 (anonymized)", "leakage.rank1", "%")
        add("chance rank-1", "leakage.chance_rank1", "%")
        add("leakage rank-1 of the unmodified clips", "leakage.unmodified_rank1", "%")
        add("leakage TAR at the judge's FAR", "leakage.tar_percent", "%")
        add("chance TAR (= FAR)", "leakage.chance_tar_percent", "%")
        attackers = report.get("attackers") or {}
        for name in attackers.get("rows", {}).get("anonymized", {}):
            if name != "judge":
                add(f"leakage rank-1, attacker {name}", f"attackers.rows.anonymized.{name}.rank1", "%")
                add(f"leakage TAR at FAR 1%, attacker {name}", f"attackers.rows.anonymized.{name}.tar_vs_gallery", "%")
    elif identity.get("defined"):
        add(f"identity rank-1 ({kind}, mean over types)", "identity.mean.generated_rank1", "%")
        add("identity rank-1 (real probes, same types)", "identity.mean.real_rank1", "%")
        add("ratio", "identity.mean.ratio")
        add("TAR at the judge's FAR", "identity.verification.generated_tar_percent", "%")
    else:
        rows.append({"label": "identity", "path": "identity.reason", "value": identity["reason"], "unit": ""})
    if identity.get("similarity_to_source", {}).get("available"):
        add("cosine similarity to source (mean)", "identity.similarity_to_source.mean")
    if report["naturalness"]["frechet"].get("available"):
        add(f"Fréchet distance ({kind} vs real)", "naturalness.frechet.generated_vs_real")
        add("Fréchet distance (real vs real)", "naturalness.frechet.real_vs_real")
    if report["covariates"].get("available"):
        add("covariates: view within ±18°", "covariates.generated.view_within_tolerance", "%")
        add("covariates: clothing", "covariates.generated.clothing", "%")
        add("covariates: carrying", "covariates.generated.carrying", "%")
    add(f"diversity ratio ({kind} / real spread)", "diversity.ratio")
    if report["perceptual"].get("available"):
        add("SSIM to source (mean)", "perceptual.ssim.mean")
        add("IoU to source (mean)", "perceptual.iou.mean")
    return rows


def format_value(value, unit: str = "") -> str:
    """How a number is shown everywhere (page and terminal): ≥ 100 → 1 decimal, ≥ 1 → 2, else 4 significant."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value}{unit}"
    if abs(value) >= 100:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.4g}" if value else "0"
        if "e" in text:
            text = f"{value:.6f}"
    return text + unit


def format_headline(report: dict) -> str:
    """The headline rows as an aligned text table."""
    rows = headline(report)
    width = max(len(r["label"]) for r in rows)
    return "\n".join(f"{r['label']:<{width}}  {format_value(r['value'], r['unit'])}" for r in rows)
