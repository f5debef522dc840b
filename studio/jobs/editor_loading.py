"""Loading the editor the batch jobs run: the bundled generator, its identity bank, the judge.

`load_editor` is what `studio edit`, `studio anonymize`, `studio augment`, the web app and the
experiments call to get a `GaitEditor`; `EditorUnavailable` says which piece is not installed.
"""

from __future__ import annotations

from pathlib import Path


class EditorUnavailable(FileNotFoundError):
    """A piece the editor needs (generator, identity bank, judge, calibration) is not installed."""


def load_editor(with_judge: bool = True, generator: str | Path | None = None):
    """The bundled `GaitEditor`: generator, its identity bank, and the judge with its calibration.

    Args:
        generator: a generator pipeline folder or bundled name (default: the bundled generator).
        with_judge: load the judge (`recognizers.load_judge()`) and its `calibration.json`, which
            anonymization and the manifests' identity scores need. False gives an editor that
            only edits (no judge, and the identity bank only if the generator ships one), e.g. to
            make augmentation data.

    Raises:
        EditorUnavailable: the generator, its identity bank, the judge or its calibration is
            missing; the message names what and where, and how to make it.
    """
    import generators
    import recognizers
    from generators.editor import GaitEditor

    try:
        where = generators.resolve_generator(generator or generators.BUNDLED_GENERATOR)
        pipeline = generators.load_generator(where)
    except FileNotFoundError as err:
        raise EditorUnavailable(
            f"generator weights not installed ({err}); train with `studio train-generator`"
        ) from None
    if not with_judge:
        return GaitEditor(pipeline, bank=pipeline.identity_bank)
    if pipeline.identity_bank is None:
        raise EditorUnavailable(f"{where}: the generator ships no identity_bank/, which anonymization needs")
    try:
        judge_folder = recognizers.resolve_weights(recognizers.JUDGE)
    except FileNotFoundError as err:
        raise EditorUnavailable(
            f"the judge is not installed ({err}); train it with `studio train-recognizer --config "
            "configs/recognizers/gaitset_walkers.json ...`"
        ) from None
    calibration = recognizers.load_calibration(judge_folder)
    if calibration is None:
        raise EditorUnavailable(
            f"{judge_folder}: the judge has no calibration.json (its verification threshold); make it with "
            f"`studio eval-recognizer --weights {judge_folder} --calibrate ...`"
        )
    return GaitEditor(pipeline, bank=pipeline.identity_bank, judge=recognizers.load_judge(), calibration=calibration)


__all__ = ["EditorUnavailable", "load_editor"]
