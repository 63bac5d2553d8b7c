"""Every person in a real photo: box, score, 33 landmarks, COCO-17 keypoints, mask and face box.

Build once, query many: :class:`PeopleFinder` loads MediaPipe's pose landmarker once and answers
:meth:`PeopleFinder.find` for any number of images (RGB uint8).

One pass over the whole image finds people who fill a fair part of it: BlazePose's detector was trained
for one person near the camera and keys on faces. The small-people pass adds two more:

- the same models on overlapping square tiles (side ``1/n`` of the image's shorter side for each ``n`` in
  ``tile_levels``, half a tile of overlap; by default squares of the shorter side, which undo the
  letterboxing of a wide photo); a person cut by a tile's inner border is dropped there;
- the landmark model alone, with no face detector in front of it (:mod:`human3d.people.roi_landmarks`),
  on a square around each box of OpenCV's HOG people detector (:mod:`human3d.people.seeds`), which sees
  whole-body silhouettes: people in profile, from behind and in crowds; and around each blob of MediaPipe's
  selfie segmentation model (:mod:`human3d.people.segmentation_seeds`), which sees people bent over or
  sitting. Seeds are only places to look: a person is kept only when the landmark model sees one there.

Everything found is merged by non-maximum suppression on the boxes. ``benchmarks/people_recall.py``
measures each choice on hand-labelled photos.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from human3d.errors import Human3DError
from human3d.people.landmarks import FACE_LANDMARKS, coco17_keypoints
from human3d.people.models import import_mediapipe, pose_task_bundle, quiet_stderr
from human3d.people.roi_landmarks import RegionLandmarker
from human3d.people.seeds import SEED_REGION_SCALE, person_seeds
from human3d.people.segmentation_seeds import SegmentationSeeder
from human3d.people.tiles import Window, suppress, tile_windows

VISIBLE = 0.5  # landmark visibility from which a landmark counts as seen
MASK_THRESHOLD = 0.5  # segmentation probability from which a pixel belongs to the person
SAME_PERSON_IOU = 0.45  # boxes overlapping more than this are one person ...
SAME_PERSON_COVER = 0.75  # ... and so is a box lying this much inside another
BORDER = 0.02  # a box this close (fraction of the tile side) to a tile's inner border is cut by it
FACE_SCALE = 1.6  # the face box: the face landmarks' box widened this much, made square
SMALL_PEOPLE_TILES = (1,)  # the small-people pass's tiles: squares of the shorter side (see docs/people.md)


@dataclass
class Person:
    """One person in image pixels: ``landmarks`` [33, 4] = x, y, z (relative depth, pixels, + away from the
    camera, 0 at the hips), visibility; ``mask`` bool [H, W]; boxes ``[x1, y1, x2, y2]``."""

    box_xyxy: np.ndarray
    score: float
    landmarks: np.ndarray
    mask: np.ndarray
    face_box_xyxy: np.ndarray
    id: int = -1

    @property
    def keypoints_coco17(self) -> np.ndarray:
        """COCO-17 keypoints [17, 3]: x, y, score (the landmark's visibility)."""
        return coco17_keypoints(self.landmarks)

    @property
    def area(self) -> float:
        """The box's area in square pixels."""
        x1, y1, x2, y2 = self.box_xyxy
        return float(max(0.0, x2 - x1) * max(0.0, y2 - y1))


def merge_people(people: list[Person]) -> list[Person]:
    """Non-maximum suppression: the best-scoring of each group of overlapping people, largest box first."""
    order = sorted(range(len(people)), key=lambda i: (-people[i].score, -people[i].area))
    kept = suppress([person.box_xyxy for person in people], order, SAME_PERSON_IOU, SAME_PERSON_COVER)
    return sorted((people[i] for i in kept), key=lambda p: -p.area)


def face_box(landmarks: np.ndarray) -> np.ndarray:
    """A square box around the face landmarks (nose, eyes, ears, mouth), widened by ``FACE_SCALE``."""
    face = landmarks[list(FACE_LANDMARKS), :2]
    centre = (face.min(axis=0) + face.max(axis=0)) / 2
    half = FACE_SCALE * float((face.max(axis=0) - face.min(axis=0)).max()) / 2
    return np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half], dtype=np.float32)


class PeopleFinder:
    """Finds people in RGB images; see the module's docstring for how.

    ``min_score``: the threshold of the detector's confidence and of a person's score (the landmarks' mean
    presence, or the landmark model's pose flag where lower: :meth:`scored_person`); ``max_people``: at most
    this many people per image (largest first); ``tile_levels``: the tiles of the small-people pass (``()``:
    none); ``seeds``: the landmark model on the HOG detector's boxes and, unless ``segmentation_seeds`` is
    False, around the selfie segmentation model's blobs.
    """

    def __init__(self, min_score: float = 0.5, max_people: int = 20, tile_levels: tuple[int, ...] = SMALL_PEOPLE_TILES,
                 seeds: bool = True, segmentation_seeds: bool = True) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise Human3DError(f"min score {min_score} is outside [0, 1]")
        if max_people < 1:
            raise Human3DError(f"max people must be at least 1 (got {max_people})")
        mediapipe = import_mediapipe()
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(pose_task_bundle())),
            running_mode=vision.RunningMode.IMAGE,
            num_poses=max_people,
            min_pose_detection_confidence=min_score,
            min_pose_presence_confidence=min_score,
            output_segmentation_masks=True,
        )
        with quiet_stderr():
            self.landmarker = vision.PoseLandmarker.create_from_options(options)
            self.landmarker.detect(mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB,
                                                   data=np.zeros((64, 64, 3), np.uint8)))  # first-run log lines
        self.image_type = mediapipe.Image
        self.image_format = mediapipe.ImageFormat.SRGB
        self.min_score, self.max_people, self.tile_levels = min_score, max_people, tuple(tile_levels)
        self.seeds = seeds
        self.regions: RegionLandmarker | None = RegionLandmarker() if seeds else None
        self.blobs = SegmentationSeeder() if seeds and segmentation_seeds else None

    def close(self) -> None:
        """Free the models (the finder cannot be used afterwards)."""
        self.landmarker.close()
        if self.regions is not None:
            self.regions.close()

    def look_in_square(self, image: np.ndarray, centre: tuple[float, float], side: float) -> Person | None:
        """The person the landmark model alone (no detector) sees in the upright square of ``side`` pixels
        around ``centre``, if any (its score at least ``min_score``)."""
        if self.regions is None:
            self.regions = RegionLandmarker()
        found = self.regions.find(image, centre, side)
        if found is None:
            return None
        table, probability, flag = found
        return self.scored_person(table[:, :4].copy(), table[:, 4], probability > MASK_THRESHOLD, flag)

    def find(self, image: np.ndarray) -> list[Person]:
        """The people in ``image`` (uint8 RGB [H, W, 3]), largest box first, at most ``max_people``."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise Human3DError(f"expected an RGB uint8 image [H, W, 3], got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        people = self.detect(image, Window(0, 0, width, height), (width, height))
        for window in tile_windows(width, height, self.tile_levels):
            people += self.detect(image, window, (width, height))
        if self.seeds:
            squares = [((float(seed[0] + seed[2]) / 2, float(seed[1] + seed[3]) / 2),
                        SEED_REGION_SCALE * float(seed[3] - seed[1])) for seed in person_seeds(image)]
            squares += self.blobs.regions(image) if self.blobs is not None else []
            for centre, side in squares:
                person = self.look_in_square(image, centre, side)
                people += [] if person is None else [person]
        return merge_people(people)[: self.max_people]

    def scored_person(self, landmarks: np.ndarray, presence: np.ndarray, mask: np.ndarray, flag: float = 1.0
                      ) -> Person | None:
        """A person from whole-image landmarks [33, 4], their presence [33] and mask, scored by the landmarks'
        mean presence, or by the landmark model's pose ``flag`` where lower (known for the landmark model
        alone, not through MediaPipe's Tasks API); None when nothing is seen or the score is under
        ``min_score``."""
        box = person_box(landmarks, mask, mask.shape[1], mask.shape[0])
        score = min(float(np.mean(presence)), flag)
        if box is None or score < self.min_score:
            return None
        return Person(box, score, landmarks, mask, face_box(landmarks))

    def detect(self, image: np.ndarray, window: Window, image_size: tuple[int, int]) -> list[Person]:
        """The people the models find in one window of ``image``, in whole-image pixels (cut ones dropped)."""
        width, height = image_size
        crop = np.ascontiguousarray(image[window.y:window.y + window.height, window.x:window.x + window.width])
        result = self.landmarker.detect(self.image_type(image_format=self.image_format, data=crop))
        masks = result.segmentation_masks or []
        inner = window.inner_edges(width, height)
        whole = window == Window(0, 0, width, height)
        found = []
        for index, pose in enumerate(result.pose_landmarks):
            table = np.array([[p.x, p.y, p.z, p.visibility, p.presence] for p in pose], dtype=np.float32)
            landmarks = np.empty((len(table), 4), dtype=np.float32)
            landmarks[:, 0] = window.x + table[:, 0] * window.width
            landmarks[:, 1] = window.y + table[:, 1] * window.height
            landmarks[:, 2] = table[:, 2] * window.width
            landmarks[:, 3] = table[:, 3]
            mask = np.zeros((height, width), dtype=bool)
            if index < len(masks):
                mask[window.y:window.y + window.height, window.x:window.x + window.width] = (
                    masks[index].numpy_view().reshape(window.height, window.width) > MASK_THRESHOLD)
            person = self.scored_person(landmarks, table[:, 4], mask)
            if person is not None and (whole or not cut_by(person.box_xyxy, window, inner)):
                found.append(person)
        return found


def build_people_finder(min_score: float | None = 0.5, max_people: int = 20, small_people: bool = True
                        ) -> PeopleFinder:
    """A finder with the default small-people pass (square tiles and HOG seeds), or none; ``min_score``
    None is the default, 0.5."""
    return PeopleFinder(0.5 if min_score is None else min_score, max_people,
                        SMALL_PEOPLE_TILES if small_people else (), seeds=small_people)


@functools.lru_cache(maxsize=2)
def default_finder(min_score: float = 0.5, max_people: int = 20, small_people: bool = True) -> PeopleFinder:
    """A process-wide finder per setting, built on first use (the models load once)."""
    return build_people_finder(min_score, max_people, small_people)


def find_people(image: np.ndarray, min_score: float = 0.5, max_people: int = 20,
                small_people: bool = True) -> list[Person]:
    """The people in ``image`` (uint8 RGB), largest box first: :meth:`PeopleFinder.find` of a shared finder."""
    return default_finder(min_score, max_people, small_people).find(image)


def person_box(landmarks: np.ndarray, mask: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """The box around the person's mask and seen landmarks, clipped to the image; None when empty."""
    seen = landmarks[landmarks[:, 3] >= VISIBLE, :2]
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    xs = list(seen[:, 0]) + ([cols[0], cols[-1] + 1] if len(cols) else [])
    ys = list(seen[:, 1]) + ([rows[0], rows[-1] + 1] if len(rows) else [])
    if not xs:
        return None
    box = np.array([max(0.0, min(xs)), max(0.0, min(ys)), min(float(width), max(xs)), min(float(height), max(ys))],
                   dtype=np.float32)
    return box if box[2] > box[0] and box[3] > box[1] else None


def cut_by(box: np.ndarray, window: Window, inner: tuple[bool, bool, bool, bool]) -> bool:
    """Whether ``box`` touches one of the window's edges that lie inside the image."""
    margin = BORDER * window.width
    left, top, right, bottom = inner
    return bool((left and box[0] <= window.x + margin) or (top and box[1] <= window.y + margin)
                or (right and box[2] >= window.x + window.width - margin)
                or (bottom and box[3] >= window.y + window.height - margin))
