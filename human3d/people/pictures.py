"""Pictures of found people: masks, boxes with scores, COCO-17 skeletons, and blurred faces."""

from __future__ import annotations

from typing import Iterable, Sequence

import cv2
import numpy as np

from human3d.people.finder import Person
from human3d.people.landmarks import COCO17_SKELETON
from human3d.people.tiles import box_iou_cover, box_pixels

LAYERS = ("boxes", "keypoints", "masks")
KEYPOINT_SCORE = 0.5  # keypoints drawn from this score up


def person_colour(index: int) -> tuple[int, int, int]:
    """A distinct, saturated RGB colour per person id (golden-angle hues)."""
    hue = int((index * 137.508) % 180)
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[2]), int(bgr[1]), int(bgr[0])


def blur_faces(image: np.ndarray, boxes: Iterable[np.ndarray]) -> np.ndarray:
    """``image`` (RGB uint8) with each face box pixelated beyond recognition (a copy; the input is kept)."""
    out = image.copy()
    for box in boxes:
        x1, y1, x2, y2 = box_pixels(box, out.shape[:2])
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        face = out[y1:y2, x1:x2]
        small = cv2.resize(face, (max(1, (x2 - x1) // 12), max(1, (y2 - y1) // 12)), interpolation=cv2.INTER_AREA)
        out[y1:y2, x1:x2] = cv2.GaussianBlur(cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR),
                                             (0, 0), max(1.0, (x2 - x1) / 16))
    return out


def all_face_boxes(image: np.ndarray, people: Sequence[Person]) -> list[np.ndarray]:
    """The face boxes of ``people`` and of every face the face detector sees, body or not; a detected "face"
    lying on a found person's body (their mask) away from their own face is a false find and is left out."""
    from human3d.people.faces import find_faces

    boxes = [person.face_box_xyxy for person in people]
    for face in find_faces(image):
        centre_x, centre_y = int((face[0] + face[2]) / 2), int((face[1] + face[3]) / 2)
        on_a_body = any(person.mask[min(max(centre_y, 0), person.mask.shape[0] - 1),
                                    min(max(centre_x, 0), person.mask.shape[1] - 1)]
                        and box_iou_cover(face, person.face_box_xyxy)[1] == 0.0 for person in people)
        if not on_a_body:
            boxes.append(face)
    return boxes


def blur_found_faces(image: np.ndarray) -> np.ndarray:
    """``image`` (RGB uint8) with every face pixelated (a copy): those of the people the finder sees and
    those the face detector sees, with or without a body."""
    from human3d.people.finder import find_people

    return blur_faces(image, all_face_boxes(image, find_people(image)))


def render(image: np.ndarray, people: Sequence[Person], layers: Iterable[str] = LAYERS,
           blur: bool = False) -> np.ndarray:
    """``image`` (RGB uint8) with the chosen ``layers`` of every person drawn over it (with ``blur``, every face
    is pixelated first, found people's and the face detector's)."""
    layers = set(layers)
    out = blur_faces(image, all_face_boxes(image, people)) if blur else image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 400))
    for index, person in enumerate(people):
        colour = np.array(person_colour(person.id if person.id >= 0 else index), dtype=np.float32)
        if "masks" in layers:
            out[person.mask] = (0.55 * out[person.mask] + 0.45 * colour).astype(np.uint8)
        if "keypoints" in layers:
            points = person.keypoints_coco17
            for a, b in COCO17_SKELETON:
                if points[a, 2] >= KEYPOINT_SCORE and points[b, 2] >= KEYPOINT_SCORE:
                    cv2.line(out, tuple(int(v) for v in points[a, :2]), tuple(int(v) for v in points[b, :2]),
                             tuple(int(c) for c in colour), thickness + 1, cv2.LINE_AA)
            for x, y, score in points:
                if score >= KEYPOINT_SCORE:
                    cv2.circle(out, (int(x), int(y)), thickness + 2, (255, 255, 255), -1, cv2.LINE_AA)
        if "boxes" in layers:
            x1, y1, x2, y2 = (int(round(v)) for v in person.box_xyxy)
            cv2.rectangle(out, (x1, y1), (x2, y2), tuple(int(c) for c in colour), thickness + 1)
            label = f"{person.id if person.id >= 0 else index} {person.score:.2f}"
            cv2.putText(out, label, (x1 + 2, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness + 0.2,
                        tuple(int(c) for c in colour), thickness, cv2.LINE_AA)
    return out
