"""BlazePose's landmark model run on a given square of an image, with no detector in front of it.

BlazePose's detector needs a face; a person in profile, from behind or small in a crowd often gives it
none. The landmark model itself was trained on person-centred crops, whatever the person's pose and
facing, and it says whether a person is there. :class:`RegionLandmarker` runs that model (the GHUM full
model shipped in the ``mediapipe==0.10.14`` wheel, the people finder's own) on a square given from
outside (a HOG seed, or where a video's person just was) and returns the 33 landmarks and a mask when the
model sees a person there, and nothing otherwise.

It runs the ``.tflite`` file with LiteRT (``ai-edge-litert``, Apache-2.0) and its XNNPACK kernels:
19 ms a square on one core of our CPU where MediaPipe's ``PoseLandmarkByRoiCpu`` graph took 38 ms for the
same model (``benchmarks/people_speed.py``). The steps are the graph's own:

1. the square is resampled to the model's 256 x 256 input (bilinear, edge pixels repeated past the
   image's border), values in [0, 1];
2. the model's pose flag (a probability) must reach :data:`PRESENCE_FLAG`;
3. each landmark's x, y is refined by the model's heatmap: the sigmoid-weighted mean cell of the
   7 x 7 window around it, where that window's best cell reaches :data:`REFINE_MIN_CONFIDENCE`;
4. visibility and presence are the sigmoids of their logits; x, y, z go back to image pixels;
5. the segmentation logits' sigmoid is resampled back onto the whole image (0 outside the square).

Compared with the graph on 94 squares of the shared photos and a synthetic clip (65 with a person):
the same squares found, landmarks within 0.07 input pixels (median; 1.2 at the 95th percentile), masks
at IoU 0.995 on average (``tests/people/test_roi_landmarks.py`` compares it with MediaPipe's own landmarker).
"""

from __future__ import annotations

import cv2
import numpy as np

from human3d.errors import Human3DError
from human3d.people.models import litert_interpreter

INPUT_SIZE = 256  # the model's square input, pixels
LANDMARKS = 33  # BlazePose's landmarks (the model outputs 6 more, auxiliary ones, which are not used)
OUTPUT_ROWS = 39  # landmark rows of the model's output: x, y, z, visibility logit, presence logit each
PRESENCE_FLAG = 0.5  # the pose flag from which the model sees a person in the square
REFINE_WINDOW = 7  # heatmap cells of the refinement window's side
REFINE_MIN_CONFIDENCE = 0.5  # a landmark is refined where its window's best heatmap cell reaches this


def sigmoid(values: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow warnings for large negative logits."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(values, dtype=np.float32)))


def region_transform(centre: tuple[float, float], side: float, size: int = INPUT_SIZE) -> np.ndarray:
    """The 2 x 3 affine map from image pixels to the pixels of the ``size`` x ``size`` model input that
    shows the upright square of ``side`` pixels around ``centre``."""
    scale = size / side
    return np.array([[scale, 0.0, size / 2 - centre[0] * scale],
                     [0.0, scale, size / 2 - centre[1] * scale]], dtype=np.float32)


def refine_with_heatmap(xy: np.ndarray, heatmaps: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """Landmark ``xy`` (N, 2, model-input pixels) refined by their heatmaps (h, w, N logits): each one
    moved to the sigmoid-weighted mean cell of the :data:`REFINE_WINDOW` window around it where that
    window's best cell reaches :data:`REFINE_MIN_CONFIDENCE`; others, and those off the map, stay."""
    rows, cols = heatmaps.shape[:2]
    half = REFINE_WINDOW // 2
    refined = np.array(xy, dtype=np.float32, copy=True)
    cells = np.floor(xy / size * np.array([cols, rows])).astype(int)
    for index, (col, row) in enumerate(cells):
        if not (0 <= col < cols and 0 <= row < rows):
            continue
        r0, r1, c0, c1 = max(0, row - half), min(rows, row + half + 1), max(0, col - half), min(cols, col + half + 1)
        window = sigmoid(heatmaps[r0:r1, c0:c1, index])
        if window.max() < REFINE_MIN_CONFIDENCE:
            continue
        total = window.sum()
        refined[index, 0] = (window.sum(axis=0) @ np.arange(c0, c1)) / total / cols * size
        refined[index, 1] = (window.sum(axis=1) @ np.arange(r0, r1)) / total / rows * size
    return refined


class RegionLandmarker:
    """Pose landmarks and mask of the person in a square region; build once, call :meth:`find` many times.
    ``threads``: LiteRT's CPU threads for the model (default 1)."""

    def __init__(self, threads: int = 1) -> None:
        self.interpreter = interpreter = litert_interpreter("mediapipe_pose_landmarker_full", threads)
        self.input = interpreter.get_input_details()[0]["index"]
        outputs = {tuple(int(n) for n in detail["shape"]): detail["index"]
                   for detail in interpreter.get_output_details()}
        try:
            self.landmarks_output = outputs[(1, OUTPUT_ROWS * 5)]
            self.flag_output = outputs[(1, 1)]
            self.mask_output = outputs[(1, INPUT_SIZE, INPUT_SIZE, 1)]
            self.heatmap_output = next(index for shape, index in outputs.items()
                                       if len(shape) == 4 and shape[3] == OUTPUT_ROWS)
        except (KeyError, StopIteration):
            raise Human3DError(f"the pose landmark model has unexpected outputs {sorted(outputs)}") from None

    def close(self) -> None:
        """Free the model (the landmarker cannot be used afterwards)."""
        del self.interpreter

    def find(self, image: np.ndarray, centre: tuple[float, float], side: float
             ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The person in the upright square of ``side`` pixels around ``centre`` of ``image`` (RGB uint8):
        landmarks [33, 5] (x, y, z in pixels, visibility, presence), a mask probability [H, W] and the
        model's pose flag (how sure it is that a person is there); None when the flag is under
        :data:`PRESENCE_FLAG`."""
        height, width = image.shape[:2]
        transform = region_transform(centre, side)
        square = cv2.warpAffine(np.ascontiguousarray(image[..., :3]), transform, (INPUT_SIZE, INPUT_SIZE),
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        self.interpreter.set_tensor(self.input, (square.astype(np.float32) * (1.0 / 255.0))[None])
        self.interpreter.invoke()
        flag = float(self.interpreter.get_tensor(self.flag_output).reshape(-1)[0])
        if flag < PRESENCE_FLAG:
            return None
        rows = self.interpreter.get_tensor(self.landmarks_output).reshape(OUTPUT_ROWS, 5)[:LANDMARKS]
        xy = refine_with_heatmap(rows[:, :2], self.interpreter.get_tensor(self.heatmap_output)[0][..., :LANDMARKS])
        landmarks = np.empty((LANDMARKS, 5), dtype=np.float32)
        landmarks[:, 0] = centre[0] + (xy[:, 0] / INPUT_SIZE - 0.5) * side
        landmarks[:, 1] = centre[1] + (xy[:, 1] / INPUT_SIZE - 0.5) * side
        landmarks[:, 2] = rows[:, 2] / INPUT_SIZE * side
        landmarks[:, 3:] = sigmoid(rows[:, 3:5])
        probability = sigmoid(self.interpreter.get_tensor(self.mask_output)[0, :, :, 0])
        mask = cv2.warpAffine(probability, transform, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return landmarks, mask, flag
