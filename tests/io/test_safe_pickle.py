import io
import os
import pickle
from collections import OrderedDict

import pytest

from human3d.io.safe_pickle import AllowListUnpickler, UnsafePickleError


class _OrderedDictOnly(AllowListUnpickler):
    allowed = {("collections", "OrderedDict"): OrderedDict}


class _RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


def test_allowed_globals_load():
    data = OrderedDict(a=[1, 2.5, "x"])
    assert _OrderedDictOnly(io.BytesIO(pickle.dumps(data))).load() == data


def test_other_globals_are_refused_by_name():
    with pytest.raises(UnsafePickleError, match=r"^(posix|os|nt)\.getcwd$"):
        _OrderedDictOnly(io.BytesIO(pickle.dumps(_RunsCode()))).load()
    assert issubclass(UnsafePickleError, pickle.UnpicklingError)
