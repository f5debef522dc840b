"""Write a fidelity report: JSON for machines and ONE self-contained HTML page for people.

`write_report` serialises the report dict to JSON first and renders the page from that JSON
text read back, so every number the page shows is the JSON's: each one is looked up by its JSON
path (kept in the cell's `data-path`) and formatted by `evaluation.fidelity_report.format_value`.
Plots (PNG) and animated strips (GIF) are embedded as base64 data URIs; the page loads nothing
from anywhere (no external CSS, scripts or fonts).
"""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from evaluation import plots
from evaluation.fidelity_report import format_value, headline
from gaitdata.atomic import atomic_write_text
from gaitdata.errors import GaitDataError
from gaitdata.preview import write_gif
from gaitdata.readers import read_sequence
from gaitdata.sequence import crop_to_model_input

JSON_NAME = "fidelity_report.json"
HTML_NAME = "fidelity_report.html"
STRIP_FRAMES = 48  # frames per animated strip: two gait cycles, a small page
STRIP_SCALE = 2
SHORT_KIND = {"generated": "gen", "edited": "edit", "anonymized": "anon"}  # fits a 44-pixel panel's label band

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; border-bottom: 1px solid #ccc; padding-bottom: 3px; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 3px 9px; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #555; font-size: 0.9em; }
.note { color: #555; font-size: 0.88em; max-width: 900px; }
.undefined { background: #fff4e5; border-left: 4px solid #f0a020; padding: 6px 10px; }
.headline td.num { font-weight: 600; }
.strips { display: flex; flex-wrap: wrap; gap: 14px; }
.strips figure { margin: 0; background: #111; padding: 6px; color: #eee; font-size: 0.78em; max-width: 260px; }
.strips img { image-rendering: pixelated; display: block; }
img.plot { max-width: 100%; }
"""


def _lookup(report: dict, path: str):
    value = report
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class _Page:
    """Builds the HTML from one report dict; numbers only ever come from `num(path)`."""

    def __init__(self, report: dict):
        self.report = report
        self.parts: list[str] = []

    def num(self, path: str, unit: str = "") -> str:
        value = _lookup(self.report, path)
        return f'<td class="num" data-path="{html.escape(path)}">{html.escape(format_value(value, unit))}</td>'

    def add(self, text: str) -> None:
        self.parts.append(text)

    def heading(self, text: str) -> None:
        self.add(f"<h2>{html.escape(text)}</h2>")

    def note(self, text: str | None, cls: str = "note") -> None:
        if text:
            self.add(f'<p class="{cls}">{html.escape(str(text))}</p>')

    def table(self, header: list[str], rows: list[list[str]], cls: str = "") -> None:
        """`rows` hold ready cells (`num(...)` or `text(...)`)."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
        self.add(f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')

    @staticmethod
    def text(value) -> str:
        return f"<td>{html.escape(str(value))}</td>"

    def image(self, data: bytes | None, mime: str, alt: str, cls: str = "plot") -> str:
        if not data:
            return ""
        encoded = base64.b64encode(data).decode("ascii")
        return f'<img class="{cls}" alt="{html.escape(alt)}" src="data:{mime};base64,{encoded}">'

    def html(self) -> str:
        r = self.report
        title = f"Fidelity report: {r['kind']} clips"
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(self.parts)
            + "</body></html>\n"
        )


def _header(p: _Page) -> None:
    r = p.report
    p.add(f"<h1>Fidelity report: {html.escape(r['kind'])} clips</h1>")
    judge, cal = r["judge"], r["calibration"]
    p.add(
        '<p class="meta">'
        f"real: <code>{html.escape(r['real_root'])}</code><br>"
        f"{html.escape(r['kind'])}: <code>{html.escape(r['generated_root'])}</code><br>"
        f"judge: {html.escape(str(judge['class']))} ({html.escape(str(judge['weights']))}), at most "
        f"{html.escape(str(judge['max_frames']))} frames per clip; calibration: {html.escape(str(cal['source']))}"
        f"<br>created {html.escape(r['created'])}</p>"
    )


def _headline(p: _Page) -> None:
    p.heading("Headline")
    rows = []
    for row in headline(p.report):
        value = row["value"]
        cell = p.num(row["path"], row["unit"]) if isinstance(value, (int, float)) or value is None else p.text(value)
        rows.append([p.text(row["label"]), cell])
    p.table(["measure", "value"], rows, cls="headline")


def _data(p: _Page) -> None:
    p.heading("Data")
    rows = []
    for role in ("real", "generated"):
        base = f"data.{role}"
        d = p.report["data"][role]
        sizes = ", ".join(f"{k}: {v}" for k, v in d["frame_sizes"].items())
        rows.append(
            [
                p.text(role if role == "real" else p.report["kind"]),
                p.num(f"{base}.clips"),
                p.num(f"{base}.subjects"),
                p.text(", ".join(d["condition_types"])),
                p.text(f"{len(d['views'])}: {', '.join(d['views'])}"),
                p.text(sizes),
                p.num(f"{base}.resized"),
                p.num(f"{base}.skipped"),
            ]
        )
    p.table(["folder", "clips", "subjects", "types", "views", "frame sizes (clips)", "resized", "skipped"], rows)
    d = p.report["data"]
    p.table(
        ["subjects in common", "sources named", "sources found in the real folder"],
        [[p.num("data.subjects_in_common"), p.num("data.sources_named"), p.num("data.sources_in_real_folder")]],
    )
    p.note(f"Real subjects read: {d['real'].get('selection', '')}. {d['frame_rule']}.")
    if d["generated"]["real_copies_left_out"]:
        p.note(f"{d['generated']['real_copies_left_out']} unmodified real copies (manifest action 'copy') left out.")
    if d["generated"]["max_clips"] and d["generated"]["found"] > d["generated"]["clips"]:
        p.note(f"{d['generated']['found']} clips found; a random {d['generated']['max_clips']} judged (max_clips).")
    for role in ("real", "generated"):
        for skipped in d[role]["skipped_examples"]:
            p.note(f"skipped ({role}): {skipped['path']}: {skipped['problem']}")


def _identity(p: _Page) -> None:
    r = p.report
    kind = r["kind"]
    identity = r["identity"]
    p.heading("Identity leakage" if kind == "anonymized" else "Identity preservation")
    if not identity["defined"]:
        p.note(f"Undefined: {identity['reason']}", cls="undefined")
    else:
        rows = []
        for group in identity["per_condition"]:
            base = f"identity.per_condition.{group}"
            rows.append(
                [
                    p.text(group),
                    p.num(f"{base}.generated_rank1", "%"),
                    p.num(f"{base}.real_rank1", "%"),
                    p.num(f"{base}.ratio"),
                    p.num(f"{base}.generated_probes"),
                    p.num(f"{base}.real_probes"),
                ]
            )
        m = "identity.mean"
        rows.append(
            [p.text("mean over " + "/".join(identity["mean"]["types"]))]
            + [p.num(f"{m}.generated_rank1", "%"), p.num(f"{m}.real_rank1", "%"), p.num(f"{m}.ratio")]
            + [p.num(f"{m}.generated_probes"), p.num(f"{m}.real_probes")]
        )
        p.table(["probe type", f"{kind} rank-1", "real rank-1", "ratio", f"{kind} probes", "real probes"], rows)
        p.table(
            [
                "gallery subjects",
                "chance rank-1",
                "subjects in common",
                "clips scored",
                "clips of subjects not in gallery",
            ],
            [
                [
                    p.num("identity.gallery_subjects"),
                    p.num("identity.chance_rank1", "%"),
                    p.num("identity.subjects_in_common"),
                    p.num("identity.clips_scored"),
                    p.num("identity.clips_not_in_gallery"),
                ]
            ],
        )
        p.note(
            "Rank-1: CASIA-B cross-view protocol, gallery nm-01…04 of the real folder, identical views excluded, "
            f"each {kind} clip retrieved as the subject it claims (its source's when one is named). "
            "Real rank-1: the judge on the real probes (nm-05/06, bg, cl) of the same subjects and types."
        )
        p.note(identity.get("real_note"))
        p.add(p.image(plots.rank1_per_view(identity, kind), "image/png", "rank-1 per view"))
        v = "identity.verification"
        p.table(
            ["threshold", "metric", "FAR", f"{kind} TAR", f"{kind} pairs", "real TAR", "real FAR measured"],
            [
                [
                    p.num(f"{v}.threshold"),
                    p.text(identity["verification"]["metric"]),
                    p.num(f"{v}.far_percent", "%"),
                    p.num(f"{v}.generated_tar_percent", "%"),
                    p.num(f"{v}.generated_pairs"),
                    p.num(f"{v}.real_tar_percent", "%"),
                    p.num(f"{v}.real_far_measured_percent", "%"),
                ]
            ],
        )
        p.note(
            "Verification: every (clip, gallery clip of the claimed subject) pair, accepted at the judge's threshold."
        )
    sim = identity.get("similarity_to_source", {})
    if sim.get("available"):
        s = "identity.similarity_to_source"
        p.table(
            ["cosine similarity to the source clip: mean", "median", "pairs", "real: source vs its subject's others"],
            [[p.num(f"{s}.mean"), p.num(f"{s}.median"), p.num(f"{s}.count"), p.num(f"{s}.real_same_subject_mean")]],
        )
    else:
        p.note(f"Similarity to source: not available — {sim.get('reason', '')}")
    leakage = r.get("leakage")
    if leakage and leakage.get("defined"):
        p.heading("Leakage summary")
        rows = [
            [p.text("rank-1"), p.num("leakage.rank1", "%"), p.num("leakage.chance_rank1", "%")]
            + [p.num("leakage.unmodified_rank1", "%")],
            [p.text("TAR at the judge's FAR"), p.num("leakage.tar_percent", "%")]
            + [p.num("leakage.chance_tar_percent", "%"), p.num("leakage.unmodified_tar_percent", "%")],
        ]
        p.table(["measure", "anonymized", "chance", "unmodified real clips (ceiling)"], rows)
        p.note(leakage["note"])


def _attackers(p: _Page) -> None:
    """Leakage by every attacker, anonymized beside unmodified (the ceiling) and chance."""
    a = p.report.get("attackers")
    if not a:
        return
    p.heading("Leakage by attacker")
    if not a.get("defined"):
        p.note(f"Undefined: {a['reason']}", cls="undefined")
        return
    rows = []
    for name in a["rows"]["anonymized"]:
        anon, plain = f"attackers.rows.anonymized.{name}", f"attackers.rows.unmodified.{name}"
        rows.append(
            [p.text(name), p.text(a["rows"]["anonymized"][name]["views"])]
            + [p.num(f"{anon}.rank1", "%"), p.num(f"{anon}.rank1_over_chance"), p.num(f"{anon}.tar_vs_source", "%")]
            + [p.num(f"{anon}.tar_vs_gallery", "%"), p.num(f"{anon}.impostor_accept_vs_gallery", "%")]
            + [p.num(f"{plain}.rank1", "%"), p.num(f"{plain}.tar_vs_gallery", "%"), p.num(f"{anon}.chance_rank1", "%")]
            + [p.num(f"{anon}.threshold"), p.num(f"{anon}.calibration.tar")]
        )
    header = ["attacker", "views", "rank-1", "× chance", "TAR vs source", "TAR vs source gallery"]
    header += ["impostors accepted", "unmodified rank-1", "unmodified TAR vs gallery", "chance rank-1"]
    p.table([*header, "threshold", "real TAR at it (fraction)"], rows)
    p.table(
        ["anonymized clips scored", "left out (no source in the real folder, or a gallery source)", "real probes"],
        [[p.num("attackers.probes"), p.num("attackers.left_out"), p.num("attackers.calibration_probes")]],
    )
    p.note(a["note"])
    for name, info in a["attackers"].items():
        if not info.get("available"):
            p.note(f"{name}: not scored — {info.get('reason')}", cls="undefined")
        elif info.get("calibration", {}).get("source"):
            p.note(f"{name}: threshold from {info['calibration']['source']}.")


def _histograms(p: _Page) -> None:
    h = p.report["histograms"]
    p.heading("Verification distances")
    p.add(p.image(plots.distance_histograms(h), "image/png", "distance histograms"))
    rows = [[p.text(name), p.num(f"histograms.accepted_percent.{name}", "%")] for name in h["accepted_percent"]]
    p.table(["pairs", "share at or under the threshold"], rows)


def _naturalness(p: _Page) -> None:
    r = p.report
    n = r["naturalness"]
    p.heading("Naturalness")
    p.note(f"Compared with {n['real_reference']} ({n['real_reference_clips']} clips).")
    fr = n["frechet"]
    if fr.get("available"):
        f = "naturalness.frechet"
        p.table(
            [f"{r['kind']} vs real", "real vs real", "ratio", "PCA dims", "clips per side"],
            [
                [p.num(f"{f}.generated_vs_real"), p.num(f"{f}.real_vs_real"), p.num(f"{f}.ratio")]
                + [p.num(f"{f}.dims"), p.num(f"{f}.generated")]
            ],
        )
        p.add(p.image(plots.frechet_bars(fr, r["kind"]), "image/png", "Fréchet distances"))
    else:
        p.note(f"Fréchet distance not available: {fr.get('reason')}", cls="undefined")
    rows = []
    for name in n["statistics"]:
        s = f"naturalness.statistics.{name}"
        rows.append([p.text(name), p.num(f"{s}.real"), p.num(f"{s}.generated"), p.num(f"{s}.relative_difference")])
    p.table(["silhouette statistic", "real", r["kind"], "relative difference"], rows)
    p.note(f"Statistics over {n['statistics_window']}; foreground and flicker on [0, 1], height and width in pixels.")


def _covariates(p: _Page) -> None:
    c = p.report["covariates"]
    p.heading("Covariate fidelity")
    if not c.get("available"):
        p.note(f"Not available: {c.get('reason')}", cls="undefined")
        return
    rows = []
    for name, label in (("view_within_tolerance", "view within ±18°"), ("view_exact", "view exact")) + (
        ("clothing", "clothing"),
        ("carrying", "carrying"),
        ("count", "clips"),
    ):
        rows.append([p.text(label), p.num(f"covariates.generated.{name}"), p.num(f"covariates.real.{name}")])
    p.table(["attribute (accuracy %)", p.report["kind"], "real (same types and views)"], rows)
    p.note(f"Requested: {c['requested']}.")
    p.add(p.image(plots.covariate_bars(c, p.report["kind"]), "image/png", "covariate accuracy"))


def _diversity(p: _Page) -> None:
    d = p.report["diversity"]
    p.heading("Diversity")
    rows = [
        [p.text(role), p.num(f"diversity.{key}.mean"), p.num(f"diversity.{key}.std")]
        + [p.num(f"diversity.{key}.identities"), p.num(f"diversity.{key}.clips")]
        for role, key in ((p.report["kind"], "generated"), ("real", "real"))
    ]
    p.table(["clips", "mean within-identity distance", "std over identities", "identities", "clips used"], rows)
    p.table(["ratio (generated / real)"], [[p.num("diversity.ratio")]])
    p.note(f"Judge distance ({d['metric']}) between clips of one identity. Compared: {d['compared']}.")


def _perceptual(p: _Page) -> None:
    c = p.report["perceptual"]
    p.heading("Perceptual frame distance")
    if c.get("available"):
        p.table(
            ["SSIM mean", "SSIM median", "IoU mean", "IoU median", "pairs", "frames"],
            [
                [
                    p.num("perceptual.ssim.mean"),
                    p.num("perceptual.ssim.median"),
                    p.num("perceptual.iou.mean"),
                    p.num("perceptual.iou.median"),
                    p.num("perceptual.pairs"),
                    p.num("perceptual.frames"),
                ]
            ],
        )
        p.note(f"Paired: {c['paired']}.")
    else:
        p.note(f"SSIM / IoU not computed: {c.get('reason')}", cls="undefined")
    lp = c["lpips"]
    if lp.get("available"):
        p.table(["LPIPS mean", "LPIPS median"], [[p.num("perceptual.lpips.mean"), p.num("perceptual.lpips.median")]])
    else:
        p.note(f"LPIPS unavailable: {lp.get('reason')}", cls="undefined")


def _clip_frames(path: str) -> np.ndarray:
    return crop_to_model_input(read_sequence(path).frames)[:STRIP_FRAMES]


def _strips(p: _Page) -> None:
    samples = p.report.get("samples") or []
    p.heading("Side by side (animated)")
    if not samples:
        p.note("No clips to show.")
        return
    figures = []
    with tempfile.TemporaryDirectory(prefix="fidelity-strips-") as tmp:
        for i, sample in enumerate(samples):
            try:
                real, gen = _clip_frames(sample["real"]["path"]), _clip_frames(sample["generated"]["path"])
            except (GaitDataError, OSError) as err:
                figures.append(f"<figure>strip {i + 1}: clip no longer readable ({html.escape(str(err))})</figure>")
                continue
            path = write_gif(
                Path(tmp) / f"{i}.gif",
                [real, gen],
                fps=25,
                scale=STRIP_SCALE,
                labels=[
                    "source" if sample["is_source"] else "real",
                    SHORT_KIND.get(p.report["kind"], p.report["kind"]),
                ],
            )
            caption = (
                f"{html.escape(sample['real']['label'])}<br>{html.escape(sample['generated']['label'])}"
                f"<br><i>{html.escape(sample['relation'])}</i>"
            )
            img = p.image(path.read_bytes(), "image/gif", f"strip {i + 1}", cls="strip")
            figures.append(f"<figure>{img}<figcaption>{caption}</figcaption></figure>")
    p.add(f'<div class="strips">{"".join(figures)}</div>')


def _timing(p: _Page) -> None:
    p.heading("Timing")
    p.table(
        ["clips embedded", "embedding seconds", "clips / s", "report seconds (before writing)"],
        [
            [
                p.num("timing.clips_embedded"),
                p.num("timing.embedding_seconds"),
                p.num("timing.clips_per_second"),
                p.num("timing.seconds"),
            ]
        ],
    )


def render_html(report: dict) -> str:
    """The self-contained page of a report dict (as read back from its JSON)."""
    page = _Page(report)
    for section in (
        _header,
        _headline,
        _data,
        _identity,
        _attackers,
        _histograms,
        _naturalness,
        _covariates,
        _diversity,
        _perceptual,
        _strips,
        _timing,
    ):
        section(page)
    return page.html()


def write_report(report: dict, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write `fidelity_report.json` and `fidelity_report.html` into `out_dir` (atomically).

    The page is rendered from the JSON text read back, never from the live dict, so the two
    cannot disagree. Returns (json_path, html_path).
    """
    out_dir = Path(out_dir)
    text = json.dumps(report, indent=1, allow_nan=False) + "\n"
    html_text = render_html(json.loads(text))
    json_path, html_path = out_dir / JSON_NAME, out_dir / HTML_NAME
    atomic_write_text(json_path, text)
    atomic_write_text(html_path, html_text)
    return json_path, html_path
