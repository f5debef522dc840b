"""Reading OpenGait `.pkl` files without letting them run code.

A pickle is a program: `pickle.load` of a stranger's file can execute anything. OpenGait's
files hold one numpy array, so the unpickler below admits exactly the few callables numpy
needs to rebuild an array and refuses every other global with `UnsafePickleError`.
"""

from __future__ import annotations

import io
import os
import pickle

import numpy as np

from gaitdata.errors import GaitDataError, UnsafePickleError

# (module, name) pairs numpy uses to pickle an ndarray, across numpy 1.x and 2.x.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # protocol 2 carries bytes as latin-1 text; a pure function
}

# A [T, H, W] silhouette array never needs more than this; a larger header is hostile or broken.
MAX_PICKLE_BYTES = 2 * 1024**3


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file, path: str):
        super().__init__(file)
        self._path = path

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafePickleError(
            self._path, f"refused to load: the pickle asks for '{module}.{name}', only numpy arrays are allowed"
        )

    def persistent_load(self, pid):
        raise UnsafePickleError(self._path, "refused to load: the pickle uses persistent ids")


def load_array_pickle(path: str | os.PathLike) -> np.ndarray:
    """Read one numpy array from a pickle file, refusing anything that is not a plain array.

    Args:
        path: a `.pkl` file as written by OpenGait's pretreatment.

    Returns:
        The array, as stored (dtype and shape unchecked beyond "numeric ndarray").

    Raises:
        GaitDataError: the file is missing, empty, truncated, not a pickle, or not a numeric array.
        UnsafePickleError: the pickle asks to build anything else (it is never executed).
    """
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise GaitDataError(path, f"cannot open: {err.strerror or err}") from None
    if size == 0:
        raise GaitDataError(path, "file is empty")
    if size > MAX_PICKLE_BYTES:
        raise GaitDataError(path, f"file is {size / 1e9:.1f} GB, larger than any silhouette sequence")
    with open(path, "rb") as f:
        data = f.read()
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(data), path).load()
    except UnsafePickleError:
        raise
    except (EOFError, pickle.UnpicklingError, ValueError, TypeError, IndexError, KeyError, AttributeError) as err:
        raise GaitDataError(path, f"not a readable pickle (truncated or corrupt): {err}") from None
    if not isinstance(obj, np.ndarray):
        raise GaitDataError(path, f"holds a {type(obj).__name__}, expected a numpy array")
    if obj.dtype == object or not (np.issubdtype(obj.dtype, np.number) or obj.dtype == np.bool_):
        raise GaitDataError(path, f"holds an array of dtype {obj.dtype}, expected numeric silhouettes")
    return obj


def dump_array_pickle(array: np.ndarray, file) -> None:
    """Write one array as OpenGait does (a plain pickle of the ndarray)."""
    pickle.dump(np.ascontiguousarray(array), file, protocol=4)
