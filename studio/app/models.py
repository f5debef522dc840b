"""The app's models, each loaded once on first use and shared by every request.

A load runs under its model's lock (concurrent first requests wait for one load, never start
two); a failed load is not remembered, so weights installed later are found by the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from studio.app import AppConfig
from studio.jobs.synthesize import load_synthesis_pipeline


def load_bundled_editor():
    """The bundled editor with its judge (`studio.jobs.edit_dataset.load_editor`)."""
    from studio.jobs.edit_dataset import load_editor

    return load_editor(with_judge=True)


def load_bundled_covariate_classifier():
    import recognizers

    return recognizers.load_covariate_classifier()


def load_bundled_judge():
    import recognizers

    return recognizers.load_judge()


class LoadedOnce:
    """`load()`'s result, made on the first `get()` under a lock and kept; an exception is raised, not kept."""

    def __init__(self, load: Callable[[], object]):
        self._load = load
        self._lock = threading.Lock()
        self.value = None  # None until loaded

    def get(self):
        with self._lock:
            if self.value is None:
                self.value = self._load()
            return self.value


class StudioModels:
    """The editor, the judge, the covariate classifier and the synthesis pipeline of one app."""

    def __init__(self, config: AppConfig):
        self.config = config
        self._editor = LoadedOnce(lambda: (config.load_editor or load_bundled_editor)())
        self._judge = LoadedOnce(self._load_judge)
        self._covariates = LoadedOnce(lambda: (config.load_covariate_classifier or load_bundled_covariate_classifier)())
        self._pipeline = LoadedOnce(lambda: load_synthesis_pipeline(config.generator))

    def editor(self):
        """The editor (generator + identity bank + judge + calibration), loaded once on first use.

        A failed load is not remembered: weights installed later are found on the next request.
        """
        return self._editor.get()

    def _load_judge(self):
        editor = self._editor.value
        if editor is not None and editor.judge is not None:
            return editor.judge
        return (self.config.load_judge or load_bundled_judge)()

    def judge(self):
        """The judge for fidelity reports, loaded once on first use (the editor's when it is loaded)."""
        return self._judge.get()

    def covariate_classifier(self):
        """(the covariate classifier, None) once loaded; (None, why not) when it cannot be."""
        try:
            return self._covariates.get(), None
        except (FileNotFoundError, ImportError) as err:
            return None, f"not installed: {err}"

    def pipeline(self):
        """The generator, loaded once on first use (missing weights are re-checked each time)."""
        return self._pipeline.get()
