"""The editor evaluation's targets and its text table (`format_editor_report`)."""

from __future__ import annotations

from studio.jobs.editor_eval_common import EDITS

TARGETS = {
    "edit_identity_ratio": 0.9,
    "edit_requested_attribute": 90.0,
    "anonymize_rank1_over_chance": 2.0,
    "anonymize_tar": 5.0,
    "anonymize_view_kept": 95.0,
    "anonymize_frechet_ratio": 1.5,
}


def _targets(edit: dict | None, anonymize: dict | None) -> list[dict]:
    """Each issue target of the parts that ran: the measured value, the bound, pass / fail."""

    def row(name, value, bound, at_least):
        ok = None if value is None else (value >= bound if at_least else value <= bound)
        return {"target": name, "value": value, "bound": f"{'≥' if at_least else '≤'} {bound:g}", "pass": ok}

    rows = []
    for kind in EDITS if edit else ():
        r = edit[kind]
        rows.append(row(f"edit {kind}: identity ratio", r["identity"]["ratio"], TARGETS["edit_identity_ratio"], True))
        rows.append(
            row(
                f"edit {kind}: {r['requested_attribute']} %",
                r["requested_attribute_accuracy"],
                TARGETS["edit_requested_attribute"],
                True,
            )
        )
    if anonymize:
        anon = anonymize["anonymizer"]
        leak = anon["leakage"]
        frechet = anon["frechet"]["ratio"] if anon["frechet"] else None
        rows += [
            row("anonymize: rank-1 / chance", leak["rank1_over_chance"], TARGETS["anonymize_rank1_over_chance"], False),
            row("anonymize: TAR vs source clip %", leak["tar_vs_source"], TARGETS["anonymize_tar"], False),
            row("anonymize: TAR vs source gallery %", leak["tar_vs_gallery"], TARGETS["anonymize_tar"], False),
            row("anonymize: view kept %", anon["view_kept"], TARGETS["anonymize_view_kept"], True),
            row("anonymize: Fréchet ratio", frechet, TARGETS["anonymize_frechet_ratio"], False),
        ]
    return rows


def _format_edit(edit: dict) -> list[str]:
    lines = [
        f"EDIT (unedited sources: NM rank-1 {edit['source_rank1_nm']})",
        f"{'edit':<6}{'rank-1':>8}{'real':>8}{'ratio':>7}{'attribute':>16}{'cad.err':>9}{'phase':>7}{'kept%':>7}",
    ]
    for kind in EDITS:
        r = edit[kind]
        m = r["motion"]
        short = {"carrying": "bag", "clothing": "coat", "view_within_tolerance": "view±18°"}[r["requested_attribute"]]
        attribute = f"{short} {_fmt(r['requested_attribute_accuracy'])}%"
        lines.append(
            f"{kind:<6}{_fmt(r['identity']['edited_rank1']):>8}{_fmt(r['identity']['real_rank1']):>8}"
            f"{_fmt(r['identity']['ratio'], 3):>7}{attribute:>16}"
            f"{_fmt(m['cadence_relative_error']['median'], 3):>9}{_fmt(m['phase_error']['median'], 3):>7}"
            f"{_fmt(m['motion_kept']):>7}"
        )
    lines.append("(cadence error and phase error: medians; phase in fractions of a step; kept: both within tolerance)")
    settings = {kind: edit[kind].get("settings") for kind in EDITS}
    if len({str(v) for v in settings.values()}) > 1:  # each kind at its own setting (--faithful)
        for kind, used in settings.items():
            lines.append(
                f"  {kind}: strength {used['strength']}, guidance {used['guidance']}, "
                f"steering {used['conditioner_guidance']}, {used['steps']} steps"
            )
    return lines


def _format_anonymize(anonymize: dict, reference: dict) -> list[str]:
    lines = [
        "ANONYMIZE",
        f"{'arm':<13}{'rank-1':>8}{'chance':>8}{'×ch.':>6}{'TAR-src':>9}{'TAR-gal':>9}{'FA-imp':>8}"
        f"{'d-src':>7}{'view%':>7}{'Fréchet':>9}{'motion%':>9}",
    ]
    for name, r in anonymize.items():
        leak = r["leakage"]
        frechet = r["frechet"]["ratio"] if r["frechet"] else None
        lines.append(
            f"{name:<13}{_fmt(leak['rank1']):>8}{_fmt(leak['chance_rank1']):>8}{_fmt(leak['rank1_over_chance']):>6}"
            f"{_fmt(leak['tar_vs_source']):>9}{_fmt(leak['tar_vs_gallery']):>9}"
            f"{_fmt(leak['impostor_accept_vs_gallery']):>8}{_fmt(leak['distance_to_source']['mean'], 3):>7}"
            f"{_fmt(r['view_kept']):>7}{_fmt(frechet, 2):>9}{_fmt(r.get('motion', {}).get('motion_kept')):>9}"
        )
    lines += _format_attackers(anonymize)
    anon = anonymize["anonymizer"]
    null = (reference or {}).get("other_people_null")
    lines += [
        "(rank-1 against the real gallery, all views; TAR at the judge's FAR-1% threshold vs the source clip / "
        "the source's gallery; FA-imp: impostor pairs accepted; d-src: mean distance to the source; motion: "
        "cadence and phase kept)",
        f"Fréchet reference: {(reference or {}).get('real')}; real clips of other people at the same views score "
        f"{_fmt(null['ratio'], 2) if null else '—'}",
        f"anonymizer flagged as leaking: {_fmt(anon['flagged_as_leaking'])}%; attempts {anon['attempts']}; "
        f"view kept by view {anon['view_kept_by_view']}",
    ]
    return lines


def _format_attackers(anonymize: dict) -> list[str]:
    """One row per arm, one column per attacker: rank-1 (× chance) / TAR vs the source's gallery."""
    names = list(next(iter(anonymize.values())).get("attackers") or {})
    if not names:
        return []
    width = max(24, *(len(n) + 2 for n in names))
    lines = [
        "LEAKAGE BY ATTACKER: rank-1 % (× chance) / TAR vs the source's gallery %",
        f"{'arm':<13}" + "".join(f"{n:>{width}}" for n in names),
    ]
    for arm, row in anonymize.items():
        cells = []
        for name in names:
            r = row["attackers"][name]
            cells.append(f"{_fmt(r['rank1'])} ({_fmt(r['rank1_over_chance'])}×) / {_fmt(r['tar_vs_gallery'])}")
        lines.append(f"{arm:<13}" + "".join(f"{c:>{width}}" for c in cells))
    lines.append(
        "(each attacker at its own FAR-1% threshold, set on real probe-vs-gallery pairs; gei_same_view: gallery "
        "clips of the probe's view, gei_cross_view: of every other view; judge and recognizers: all views)"
    )
    return lines


def format_editor_report(result: dict) -> str:
    """The results of `evaluate_editor` as plain-text tables."""
    lines = [
        f"{result['source_clips']} source clips ({result['source_condition']}) of {result['test_subjects']} test "
        f"subjects; judge threshold {result['judge_calibration']['threshold']:.4f} "
        f"({result['judge_calibration']['metric']}, FAR {result['judge_calibration']['far']})",
    ]
    if result["edit"]:
        lines += [""] + _format_edit(result["edit"])
    if result["anonymize"]:
        lines += [""] + _format_anonymize(result["anonymize"], result["anonymize_frechet_reference"])
    lines += ["", "TARGETS"]
    for t in result["targets"]:
        verdict = {True: "pass", False: "MISS", None: "n/a"}[t["pass"]]
        lines.append(f"  {t['target']:<40}{_fmt(t['value'], 3):>9}  {t['bound']:<8}{verdict}")
    lines.append(
        f"speed: edit {result['edit_clips_per_second']} clips/s, anonymize {result['anonymize_clips_per_second']} "
        f"clips/s (retries included); {result['seconds']} s in all"
    )
    return "\n".join(lines)


def _fmt(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
