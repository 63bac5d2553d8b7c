"""Faces, with or without a body in view: MediaPipe's full-range face detector, for blurring.

The people finder's face boxes come from bodies; a face whose body is hidden or too small to be found
would escape ``--blur-faces``. :class:`FaceFinder` runs MediaPipe's BlazeFace full-range detector
(shipped in the ``mediapipe==0.10.14`` wheel, Apache-2.0, for faces up to about 5 m from the camera)
over the whole image and over the same overlapping tiles as the people finder's small-people pass, so
small faces in a large photo are large again; the boxes are merged by non-maximum suppression.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from human3d.people.models import import_mediapipe, model_file, quiet_stderr
from human3d.people.tiles import Window, box_pixels, suppress, tile_windows

FACE_MARGIN = 1.4  # a detected face box is widened this much (it is tight around eyes, nose and mouth)
HEAD_VIEW = 3.0  # sees_face looks at a square this many times a person's face box's larger side
HEAD_VIEW_PIXELS = 256  # ... resized to this many pixels a side
SAME_FACE_IOU = 0.3


class FaceFinder:
    """Finds faces in RGB uint8 images; build once, call :meth:`find` for any number of images."""

    def __init__(self, min_score: float = 0.5, tile_levels: tuple[int, ...] = (2, 3)) -> None:
        mediapipe = import_mediapipe()
        model_file("mediapipe_face_detector_full_range")  # a one-line error if the wheel lacks it
        with quiet_stderr():
            self.detector = mediapipe.solutions.face_detection.FaceDetection(
                min_detection_confidence=min_score, model_selection=1)
        self.tile_levels = tuple(tile_levels)

    def close(self) -> None:
        """Free the model (the finder cannot be used afterwards)."""
        self.detector.close()

    def find(self, image: np.ndarray) -> np.ndarray:
        """Face boxes [N, 4] (x1, y1, x2, y2, image pixels, widened by ``FACE_MARGIN``), best first."""
        height, width = image.shape[:2]
        boxes, scores = [], []
        for window in [Window(0, 0, width, height)] + tile_windows(width, height, self.tile_levels):
            crop = np.ascontiguousarray(image[window.y:window.y + window.height, window.x:window.x + window.width, :3])
            for detection in self.detector.process(crop).detections or []:
                box = detection.location_data.relative_bounding_box
                centre_x = window.x + (box.xmin + box.width / 2) * window.width
                centre_y = window.y + (box.ymin + box.height / 2) * window.height
                half = FACE_MARGIN * max(box.width * window.width, box.height * window.height) / 2
                boxes.append([centre_x - half, centre_y - half, centre_x + half, centre_y + half])
                scores.append(detection.score[0])
        kept = suppress(boxes, np.argsort(scores)[::-1], SAME_FACE_IOU)
        return np.asarray([boxes[i] for i in kept], dtype=np.float32).reshape(-1, 4)

    def sees_face(self, image: np.ndarray, face_box_xyxy: np.ndarray) -> bool:
        """Whether a face is found around a person's face box (from their body's landmarks, which BlazePose
        places on a head seen from behind too): a square of :data:`HEAD_VIEW` times its size, enlarged. On 270
        synthetic renders it found a face on 91 % of the people facing the camera (turned under 60 degrees)
        and 3 % of those facing away."""
        x0, y0, x1, y1 = (float(v) for v in face_box_xyxy)
        half = HEAD_VIEW * max(x1 - x0, y1 - y0) / 2
        centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
        left, top, right, bottom = box_pixels((centre_x - half, centre_y - half, centre_x + half, centre_y + half),
                                              image.shape[:2])
        if right - left < 2 or bottom - top < 2:
            return False
        head = cv2.resize(np.ascontiguousarray(image[top:bottom, left:right, :3]), (HEAD_VIEW_PIXELS, HEAD_VIEW_PIXELS))
        return bool(self.detector.process(head).detections)


@functools.lru_cache(maxsize=1)
def default_face_finder() -> FaceFinder:
    """A process-wide face finder, built on first use."""
    return FaceFinder()


def find_faces(image: np.ndarray) -> np.ndarray:
    """Face boxes [N, 4] in ``image`` (RGB uint8): :meth:`FaceFinder.find` of a shared finder."""
    return default_face_finder().find(image)
