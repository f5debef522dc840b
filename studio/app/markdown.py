"""The page's text: what a clip is, the judge's and the classifier's verdicts, summaries and error boxes.

Functions of library results (no models, no Gradio), so that each reads as what the page says.
"""

from __future__ import annotations

import html
from pathlib import Path

from gaitdata import GaitDataError, GaitSequence


def user_message(err: Exception) -> str:
    """A one-line explanation for the page: the file's name (not the server's temp path) and the problem."""
    if isinstance(err, GaitDataError):
        name = Path(err.path).name if err.path else None
        return f"{name}: {err.problem}" if name else err.problem
    return str(err)


def error_box(title: str, err: Exception | str) -> str:
    text = err if isinstance(err, str) else user_message(err)
    return f"### ⚠ {title}\n\n{text}"  # DejaVu has ⚠; emoji fonts are not everywhere


def display_name(name: str, limit: int = 80) -> str:
    """An upload's name as the page shows it: long ones shortened in the middle."""
    return name if len(name) <= limit else f"{name[: limit - 20]}…{name[-16:]}"


def describe(seq: GaitSequence) -> dict:
    """What the Load tab shows about a clip (JSON-ready)."""
    info = {
        "frames": seq.num_frames,
        "shape": list(seq.frames.shape),
        "subject": seq.subject,
        "condition": seq.condition,
        "view": seq.view,
        "fps": seq.fps,
        "source": Path(seq.source).name if seq.source and not seq.source.startswith("walker:") else seq.source,
    }
    for key in ("track_id", "gaps", "occluded_frames", "partial_frames", "trimmed_from"):
        if key in seq.extra:
            info[key] = seq.extra[key]
    return info


def summary_markdown(seqs: list[GaitSequence], index: int) -> str:
    seq = seqs[index]
    t, h, w = seq.frames.shape
    lines = [
        f"**{seq.subject}** · condition `{seq.condition}` · view `{seq.view}` · "
        f"**{t} frames** of {h}×{w} at {seq.fps:g} fps ({t / seq.fps:.1f} s)"
    ]
    if t == 1:
        lines.append("Note: a single-frame sequence; models see no motion in it.")
    if "trimmed_from" in seq.extra:
        lines.append(
            f"Note: this walker was seen for {seq.extra['trimmed_from']} frames; the first {t} are kept "
            f"(the studio takes at most {t} frames per clip)."
        )
    if len(seqs) > 1:
        lines.append(f"Walker {index + 1} of {len(seqs)} found in this clip: pick another in the list.")
    return "\n\n".join(lines)


def track_label(i: int, seq: GaitSequence) -> str:
    return f"{i + 1}: {seq.subject} ({seq.num_frames} frames)"


def source_markdown(state) -> str:
    """The line above the Edit and Anonymize controls: which clip they work on."""
    if not state or not state.get("sequences"):
        return "**Source:** no clip loaded yet: load one in the **Load** tab (a bundled sample will do)."
    seq = state["sequences"][state["index"]]
    return (
        f"**Source:** {seq.subject} · `{seq.condition}` · view `{seq.view}` · {seq.num_frames} frames "
        "(from the Load tab)"
    )


def synthesis_markdown(manifest: dict, shown: int) -> str:
    """What a synthesized dataset holds (`synthesize_dataset`'s manifest), `shown` of its clips previewed."""
    n = len(manifest["sequences"])
    sources = sorted({i["source"] for i in manifest["identities"]})
    text = (
        f"**{n} clips** of {manifest['settings']['num_identities']} novel identities "
        f"({', '.join(sources)} identity embeddings) in {manifest['seconds']:.1f} s. "
        f"The zip holds the OpenGait layout, `partition.json` and `manifest.json`."
    )
    candidates = manifest["settings"].get("candidates", 1)
    if candidates > 1:
        text += f" Each clip is the best of {candidates} candidates, chosen by the conditioner (never the judge)."
    steering = manifest["settings"].get("conditioner_guidance", 0.0)
    if steering:
        text += (
            f" Every clip was steered toward its person by the conditioner (guidance {steering:g}; never the judge)."
        )
    if n > shown:
        text += f" Showing the first {shown} previews."
    return text


def _mark(match) -> str:
    return {True: "✓", False: "✗", None: ""}[match]  # plain symbols: emoji fonts are not everywhere


def identity_markdown(identity: dict, goal: str) -> str:
    """The judge's identity scores as a line for the page; `goal` is "keep" (edit) or "lose" (anonymize)."""
    text = f"judge cosine similarity to the source **{identity['cosine']:.3f}**"
    if "same_person" in identity:
        same = identity["same_person"]
        verdict = "verifies as the same person" if same else "does not verify as the same person"
        good = same if goal == "keep" else not same
        text += (
            f" · {identity['metric']} distance {identity['distance']:.3f} vs threshold {identity['threshold']:.3f}"
            f" (FAR {100 * identity['far']:g}%): {_mark(good)} {verdict}"
        )
    return text


def covariates_markdown(covariates: dict | None, unavailable: str | None) -> str:
    """The covariate classifier's verdict as a line for the page."""
    if covariates is None:
        return f"covariate classifier not available ({unavailable})" if unavailable else ""
    parts = []
    for head in ("view", "clothing", "carrying"):
        c = covariates[head]
        predicted = f"{c['predicted']:03d}°" if head == "view" else c["predicted"]
        asked = ""
        if c["expected"] is not None:
            asked = f", asked {c['expected']:03.0f}°" if head == "view" else f", asked {c['expected']}"
        parts.append(f"{head} **{predicted}** (confidence {100 * c['confidence']:.0f}%{asked}) {_mark(c['match'])}")
    return " · ".join(parts)


def edit_markdown(edited: GaitSequence, scores: dict) -> str:
    """An edit's result and its scores (`ClipScorer.one`): identity kept? covariates shown?"""
    lines = [f"### Edited: {edited.subject} · `{edited.condition}` · view `{edited.view}` · {edited.num_frames} frames"]
    if scores["identity"] is not None:
        lines.append(f"**Identity** (should be kept): {identity_markdown(scores['identity'], goal='keep')}")
    lines.append(
        "**Covariates** (classifier on the edited clip): "
        + covariates_markdown(scores["covariates"], scores["covariates_unavailable"])
    )
    return "\n\n".join(lines)


VERDICT_BOX = (
    '<div class="verdict verdict-{cls}" style="border-left:8px solid {colour};background:{background};'
    'padding:10px 16px;border-radius:4px;margin-bottom:8px">'
    '<h2 style="color:{colour};margin:0 0 6px 0">{title}</h2><p style="margin:0">{text}</p></div>'
)

VERDICT_STYLES = {
    "fail": dict(cls="fail", colour="#c62828", background="#fdecea", title="✗ FAIL — identity leaks"),
    "pass": dict(cls="pass", colour="#2e7d32", background="#e8f5e9", title="✓ PASS — not verified as the source"),
}

METRIC_NAMES = {"euc": "Euclidean", "cos": "cosine"}


def leakage_markdown(result, identity: dict | None) -> str:
    """PASS / FAIL of an anonymization against the judge's verification threshold, stated loudly
    (a red or green box) with the distance that decides it, then one line on what decides."""
    distance = f"<b>{result.source_distance:.3f}</b>"
    threshold = f"<b>{result.threshold:.3f}</b>"
    if result.leaks:
        text = (
            f"Judge distance from the source {distance} ≤ threshold {threshold}: the judge still takes this "
            f"clip for the source person, after {result.attempts} attempt(s). "
            "<b>Do not share it as anonymous</b>: raise the strength or change the seed."
        )
        box = VERDICT_BOX.format(**VERDICT_STYLES["fail"], text=text)
    else:
        text = (
            f"Judge distance from the source {distance} &gt; threshold {threshold}: the judge takes this clip "
            f"for somebody else (attempts: {result.attempts})."
        )
        box = VERDICT_BOX.format(**VERDICT_STYLES["pass"], text=text)
    metric, far = "", ""
    if identity and "metric" in identity:
        metric = METRIC_NAMES.get(identity["metric"], identity["metric"]) + " "
        if identity.get("far"):
            rate = identity["far"]
            far = f" at FAR {100 * rate:g}% (1 pair of strangers in {1 / rate:.0f} passes as one person)"
    return box + (
        f"\n\n**What decides**: the judge's {metric}distance between the source and the result, against its "
        f"threshold{far}: at or below it, the same person (a leak); above it, somebody else."
    )


def report_markdown(report: dict, kind: str, rows: list[dict], unavailable: str | None) -> str:
    """A fidelity report of `kind` clips: its headline `rows` (`evaluation.fidelity_report.headline`)
    as a table, with what was left out (unreadable clips; the covariate section, without its classifier)."""
    from evaluation.fidelity_report import format_value

    data = report["data"]
    table = "\n".join(f"| {r['label']} | {format_value(r['value'], r['unit'])} |" for r in rows)
    text = (
        f"### {data['generated']['clips']} {kind} clips against {data['real']['clips']} real clips "
        f"({data['real']['subjects']} subjects)\n\n| measure | value |\n|---|---|\n{table}"
    )
    skipped = data["generated"]["skipped"] + data["real"]["skipped"]
    if skipped:
        text += f"\n\n{skipped} unreadable clip(s) skipped (listed in the report)."
    if unavailable:
        text += f"\n\nCovariate classifier {unavailable}: its section is left out."
    return text


def report_frame(html_path: str | Path) -> str:
    """The report's self-contained HTML page, shown inline (an iframe of its text)."""
    page = Path(html_path).read_text()
    return (
        f'<iframe title="fidelity report" srcdoc="{html.escape(page, quote=True)}" '
        'style="width:100%;height:720px;border:1px solid #ccc;background:white"></iframe>'
    )
