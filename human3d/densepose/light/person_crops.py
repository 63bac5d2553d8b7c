"""The light DensePose network on the people the people finder finds: one square crop per person, each
person's pixels bounded by their mask.

The light network alone (:class:`human3d.densepose.light.predictor.LightDensePosePredictor`) also finds
the people itself. It has only seen synthetic people over procedural backgrounds, and on real photos it
takes foliage for people and misses people. The people finder (MediaPipe's BlazePose and selfie
segmentation, trained on real photos) decides who is where, and the network only says which part, and
where on its chart, each of their pixels is:

1. each person's square crop, centred on their box, :data:`CROP_MARGIN` times its longer side, resized to
   :data:`CROP_SIZE` pixels (people are that size in the network's training images), the mean colour
   past the image's border;
2. one forward pass for all the crops of the batch; a guided network (the bundled people model,
   ``densepose-light-people``) also reads each crop's pose guide
   (:func:`human3d.densepose.light.pose_guide.pose_guide`: the person's limbs from the finder's keypoints,
   and the finder's mask);
3. at each pixel of the person's box, the part is the argmax of the part logits at the pixel's place in
   the crop (background is one of the choices), 0 outside the person's mask; U and V come from that
   part's own chart.

Boxes are the finder's. A person's score is the finder's times the network's confidence in their parts
(:func:`part_confidence`), so people whose parts the network is unsure of rank lower: on the synthetic
held-out set GPS AP rose 47.2 to 48.1 and box AP 80.3 to 83.3 with it (and 47.5 to 48.1 on a validation
set of other seeds). The result is the shared :class:`DensePoseResult`.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import cv2
import numpy as np
import torch

from human3d.densepose.light.model import PIXEL_MEAN_BGR, split_maps
from human3d.densepose.light.pose_guide import pose_guide
from human3d.densepose.light.predictor import Network, labels_uv_at, pad_batch, pixels_under
from human3d.densepose.result import DensePoseResult, int_boxes_xywh
from human3d.people.finder import Person

CROP_SIZE = 256  # pixels of a person's square crop fed to the network
CROP_MARGIN = 1.1  # the crop's side: this much the longer side of the person's box
MEAN_FILL = tuple(float(c) for c in np.round(PIXEL_MEAN_BGR))  # crop pixels past the image's border


class PeopleSource(Protocol):
    """What the predictor needs of a people finder: the people of an RGB image (a
    :class:`human3d.people.finder.PeopleFinder`, or a video's :class:`human3d.people.following.PeopleFollower`)."""

    def find(self, image: np.ndarray) -> list[Person]:
        """The people of one RGB uint8 image."""
        ...


def crop_square(box_xyxy: np.ndarray, margin: float = CROP_MARGIN) -> tuple[float, float, float]:
    """The square a person is cut out with: its left, top and side, in image pixels."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    side = max(margin * max(x2 - x1, y2 - y1), 8.0)
    return (x1 + x2 - side) / 2, (y1 + y2 - side) / 2, side


def cut_square(image: np.ndarray, left: float, top: float, side: float, size: int = CROP_SIZE,
               fill: float | tuple[float, ...] = MEAN_FILL) -> np.ndarray:
    """The square (``left``, ``top``, ``side``) of an image (H, W) or (H, W, C) resized to ``size`` x ``size``,
    ``fill`` where it passes the image's border (default: the network's mean colour, for BGR uint8 pictures;
    area averaging when shrinking)."""
    height, width = image.shape[:2]
    x0, y0, span = int(np.floor(left)), int(np.floor(top)), int(np.ceil(side))
    square = np.empty((span, span) + image.shape[2:], image.dtype)
    square[:] = fill
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(width, x0 + span), min(height, y0 + span)
    if sx1 > sx0 and sy1 > sy0:
        square[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
    interpolation = cv2.INTER_AREA if span > size else cv2.INTER_LINEAR
    return cv2.resize(square, (size, size), interpolation=interpolation).reshape((size, size) + image.shape[2:])


def crop_keypoints(keypoints: np.ndarray, left: float, top: float, side: float, size: int = CROP_SIZE
                   ) -> np.ndarray:
    """COCO-17 ``keypoints`` (17, 3: x, y in image pixels, score) in the pixels of the crop (``left``,
    ``top``, ``side``) resized to ``size``."""
    moved = np.array(keypoints, np.float32, copy=True)
    moved[:, :2] = (moved[:, :2] - (left, top)) * (size / side)
    return moved


def person_guide(person: Person, left: float, top: float, side: float, size: int = CROP_SIZE) -> np.ndarray:
    """The pose guide (:func:`human3d.densepose.light.pose_guide.pose_guide`) of ``person``'s crop; the mask
    resampled to the crop and rounded to 0 or 1, as in training."""
    mask = cut_square(person.mask.view(np.uint8), left, top, side, size, fill=0)
    return pose_guide(crop_keypoints(person.keypoints_coco17, left, top, side, size), mask)


def person_labels_uv(maps_output: torch.Tensor, person: Person, size: int = CROP_SIZE,
                     margin: float = CROP_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """One person's labels (H, W uint8) and U,V (2, H, W) over their integer box (detectron2's rounding of
    the finder's box), from the network output (1, C, size/4, size/4) of their crop; 0 outside their mask."""
    maps = split_maps(maps_output.float().contiguous())
    left, top, side = crop_square(person.box_xyxy, margin)
    x, y, w, h = int_boxes_xywh(torch.from_numpy(person.box_xyxy[None].astype(np.float32)))[0].tolist()
    scale = size / side
    rows = pixels_under(y, h, scale, 0, size - 1, origin=top)
    cols = pixels_under(x, w, scale, 0, size - 1, origin=left)
    labels, uv = labels_uv_at(maps, rows, cols)
    labels, uv = labels.numpy().astype(np.uint8), uv.numpy()
    mask = np.zeros((h, w), bool)
    mh, mw = person.mask.shape
    inside = person.mask[y:min(y + h, mh), x:min(x + w, mw)]
    mask[:inside.shape[0], :inside.shape[1]] = inside
    labels[~mask] = 0
    return labels, np.where(labels > 0, uv, 0.0).astype(np.float32)


def part_confidence(maps_output: torch.Tensor, person: Person, margin: float = CROP_MARGIN) -> float:
    """How sure the network is of ``person``'s parts: over the cells of the network output (1, C, h, w) of
    their crop whose centre lies in their mask, the mean probability of the likeliest body part (softmax over the
    background and the 24 parts); 0 when the mask misses the crop."""
    probabilities = split_maps(maps_output.float()).parts[0].softmax(dim=0)
    left, top, side = crop_square(person.box_xyxy, margin)
    count = probabilities.shape[-1]
    centres = (np.arange(count) + 0.5) * (side / count)  # each cell's centre, from the crop's corner
    rows, cols = np.floor(top + centres).astype(np.int64), np.floor(left + centres).astype(np.int64)
    height, width = person.mask.shape
    cells = np.zeros((count, count), bool)
    inside_rows, inside_cols = (rows >= 0) & (rows < height), (cols >= 0) & (cols < width)
    cells[np.ix_(inside_rows, inside_cols)] = person.mask[np.ix_(rows[inside_rows], cols[inside_cols])]
    if not cells.any():
        return 0.0
    return float(probabilities[1:].amax(dim=0)[torch.from_numpy(cells)].mean())


class PersonCropPredictor:
    """DensePose of the people ``finder`` finds, the light ``network`` (a :class:`LightDensePose` or any
    callable on a padded BGR batch, e.g. onnxruntime's) run on their crops; see the module docstring.

    Implements :class:`human3d.densepose.predictor.DensePosePredictor` (BGR uint8 images in).
    """

    def __init__(self, network: Network, finder: PeopleSource, device: str | torch.device = "cpu",
                 crop_size: int = CROP_SIZE, margin: float = CROP_MARGIN) -> None:
        self.device = torch.device(device)
        if isinstance(network, torch.nn.Module):
            network = network.to(self.device).eval().to(memory_format=torch.channels_last)
        self.network, self.finder = network, finder
        self.crop_size, self.margin = crop_size, margin

    def with_finder(self, finder: PeopleSource) -> PersonCropPredictor:
        """The same network on the people another finder finds (e.g. a video's
        :class:`human3d.people.following.PeopleFollower`)."""
        return PersonCropPredictor(self.network, finder, self.device, self.crop_size, self.margin)

    def predict(self, images_bgr: Sequence[np.ndarray]) -> list[DensePoseResult]:
        """One :class:`DensePoseResult` per image, in input pixels: the finder's people, largest first, each
        scored by the finder's score times :func:`part_confidence`."""
        return self.predict_people(images_bgr, [self.find(image) for image in images_bgr])

    def find(self, image_bgr: np.ndarray) -> list[Person]:
        """The people the finder finds in one BGR image."""
        return self.finder.find(np.ascontiguousarray(image_bgr[..., ::-1]))

    @torch.inference_mode()
    def predict_people(self, images_bgr: Sequence[np.ndarray], people: Sequence[Sequence[Person]]
                       ) -> list[DensePoseResult]:
        """The DensePose of people already found (``people[i]`` those of ``images_bgr[i]``): one forward
        pass for all their crops; each result lists its people in the order given."""
        squares = [(image, person, crop_square(person.box_xyxy, self.margin))
                   for image, found in zip(images_bgr, people) for person in found]
        output = None
        if squares:
            batch = pad_batch([cut_square(image, *square, self.crop_size) for image, _, square in squares])
            inputs = [batch.to(self.device)]
            if getattr(self.network, "guide_channels", 0):
                guides = np.stack([person_guide(person, *square, self.crop_size) for _, person, square in squares])
                inputs.append(torch.from_numpy(guides).permute(0, 3, 1, 2).to(self.device))  # channels-last memory
            if isinstance(self.network, torch.nn.Module):
                inputs = [x.contiguous(memory_format=torch.channels_last) for x in inputs]
            output = self.network(*inputs).float().cpu()
        results, row = [], 0
        for found in people:
            boxes = np.array([p.box_xyxy for p in found], np.float32).reshape(-1, 4)
            result = DensePoseResult(boxes, np.zeros(len(found), np.float32))
            for k, person in enumerate(found):
                result.scores[k] = person.score * part_confidence(output[row:row + 1], person, self.margin)
                labels, uv = person_labels_uv(output[row:row + 1], person, self.crop_size, self.margin)
                result.labels.append(labels)
                result.uv.append(uv)
                row += 1
            results.append(result)
        return results

    def __call__(self, image_bgr: np.ndarray) -> DensePoseResult:
        """Predict one image."""
        return self.predict([image_bgr])[0]
