"""OpenGait pkls are untrusted: arrays load, anything else is refused without running."""

import os
import pickle

import numpy as np
import pytest

from gaitdata import GaitDataError, UnsafePickleError
from gaitdata.safe_pickle import load_array_pickle


class _RunsCode:
    """A pickle payload that would create a file if it were ever executed."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_arrays_load_under_every_protocol(tmp_path, protocol):
    array = np.random.default_rng(0).integers(0, 256, (7, 64, 64), dtype=np.uint8)
    path = tmp_path / "seq.pkl"
    path.write_bytes(pickle.dumps(array, protocol=protocol))
    np.testing.assert_array_equal(load_array_pickle(path), array)


def test_pickle_that_runs_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_RunsCode(str(marker))))
    with pytest.raises(UnsafePickleError, match="evil.pkl.*posix.mkdir|evil.pkl.*mkdir"):
        load_array_pickle(path)
    assert not marker.exists()


def test_code_hidden_inside_a_list_of_arrays_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "nested.pkl"
    path.write_bytes(pickle.dumps([np.zeros((2, 4, 4), np.uint8), _RunsCode(str(marker))]))
    with pytest.raises(UnsafePickleError):
        load_array_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload, problem",
    [
        (b"", "empty"),
        (pickle.dumps(np.zeros((3, 8, 8), np.uint8))[:40], "truncated or corrupt"),
        (b"this is not a pickle at all", "truncated or corrupt"),
        (pickle.dumps({"frames": [1, 2]}), "holds a dict"),
        (pickle.dumps(np.array(["a", "b"])), "dtype"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, payload, problem):
    path = tmp_path / "bad.pkl"
    path.write_bytes(payload)
    with pytest.raises(GaitDataError) as info:
        load_array_pickle(path)
    assert "bad.pkl" in str(info.value) and problem in str(info.value)


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "objects.pkl"
    path.write_bytes(pickle.dumps(np.array([1, "x"], dtype=object)))
    with pytest.raises(GaitDataError):
        load_array_pickle(path)


def test_missing_file(tmp_path):
    with pytest.raises(GaitDataError, match="nope.pkl: cannot open"):
        load_array_pickle(tmp_path / "nope.pkl")
