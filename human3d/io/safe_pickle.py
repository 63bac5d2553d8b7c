"""Unpickling by allow-list: a pickle may only name the globals its file format needs."""

from __future__ import annotations

import pickle
from typing import Any


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (loading it could run code).

    ``str(error)`` is the global's ``module.name``.
    """


class AllowListUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals of ``allowed`` ((module, name) -> object).

    Subclasses set ``allowed``; any other global raises :class:`UnsafePickleError` before anything
    of the pickle can run.
    """

    allowed: dict[tuple[str, str], Any] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"{module}.{name}") from None
