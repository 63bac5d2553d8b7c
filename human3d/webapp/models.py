"""The web app's models: each built on first use and kept, and used by one job at a time (a lock each)."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from human3d.densepose.light.person_crops import PersonCropPredictor
    from human3d.fit.body_fit import BodyFitter
    from human3d.people.finder import PeopleFinder
    from human3d.pifuhd.predictor import PifuhdPredictor

Progress = Callable[[float, str], None]
"""``progress(fraction done, what is happening)``, as a job reports it to the page."""

MODELS = {
    "people": "the people finder",
    "pifuhd": "the 3D reconstruction model",
    "densepose": "the DensePose model",
    "body": "the body fitting",
}


class Models:
    """The bundled models, built once and shared by every job; ``using(name)`` waits its turn for one.

    ``resolution`` is the reconstruction's grid size per axis; ``device`` ``cpu`` or ``cuda``.
    """

    def __init__(self, resolution: int = 256, device: str = "cpu") -> None:
        self.resolution = resolution
        self.device = device
        self.locks = {name: threading.Lock() for name in MODELS}
        self.built: dict[str, Any] = {}

    @contextlib.contextmanager
    def using(self, name: str, progress: Progress) -> Iterator[None]:
        """Hold model ``name`` for the block; while another job holds it, say so through ``progress``."""
        lock = self.locks[name]
        if not lock.acquire(blocking=False):
            progress(0.0, f"waiting: another job is using {MODELS[name]}")
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def _get(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self.built:
            self.built[key] = build()
        return self.built[key]

    def finder(self) -> PeopleFinder:
        """The people finder, with its small-people pass (in a video, on the searched frames only)."""
        from human3d.people.finder import build_people_finder

        return self._get("finder", build_people_finder)

    def pifuhd(self) -> PifuhdPredictor:
        """The bundled PIFuHD weights' predictor."""
        from human3d.pifuhd.model import load_pifuhd
        from human3d.pifuhd.predictor import PifuhdPredictor
        from human3d.weights.resolve import resolve_weights

        return self._get("pifuhd", lambda: PifuhdPredictor(load_pifuhd(resolve_weights("pifuhd", None)),
                                                           device=self.device))

    def densepose(self) -> PersonCropPredictor:
        """The bundled light DensePose model, on the people the people finder finds."""
        from human3d.densepose.light.person_crops import PersonCropPredictor
        from human3d.densepose.predictor import build_densepose, light_network, light_weights

        return self._get("densepose", lambda: PersonCropPredictor(
            light_network(build_densepose(light_weights(people_finder=True)), self.device), self.finder(), self.device))

    def fitter(self) -> BodyFitter:
        """The body fitter (anny)."""
        from human3d.fit.body_fit import BodyFitter

        return self._get("body", lambda: BodyFitter(device=self.device))
