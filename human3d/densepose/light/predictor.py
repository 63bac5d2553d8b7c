"""Images in, people out for the light model: one pass at the image's own size, then cheap decoding.

Decoding (per image, in torch on the network's stride-4 maps):

1. people = local maxima (3x3) of the centre heatmap above ``min_score`` (at most ``max_people``),
   boxes from the size and sub-cell offset maps at each peak, clipped, then NMS at IoU 0.7;
2. every cell is given to the detected person whose centre is nearest to the centre it votes for
   (its ``instance`` vector), distances measured in units of each person's box size;
3. per box, at each pixel of the box (detectron2's integer box ``x, y, W, H``, in input pixels): part
   logits sampled bilinearly from the maps (part = argmax; 0 unless the pixel's cell belongs to this
   person), U and V sampled bilinearly from the chosen part's own chart.

The result is the shared :class:`human3d.densepose.result.DensePoseResult` (the R-CNN's too), so dumps and
pictures work unchanged.
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from human3d.densepose.light.model import OFFSET_UNIT, PIXEL_MEAN_BGR, STRIDE, LightDensePose, LightMaps, split_maps
from human3d.densepose.rcnn.boxes import clip_boxes, nms
from human3d.densepose.rcnn.postprocess import rescale_detections
from human3d.densepose.result import DensePoseResult, int_boxes_xywh

DEFAULT_MIN_SCORE = 0.3
WORKING_SHORT_SIDE = 256  # larger images are shrunk to this shorter side (the training crop size)
NMS_IOU = 0.7

Network = Callable[..., torch.Tensor]  # image batch (and, for a guided model, pose guides) -> maps


def detect_people(maps: LightMaps, image_hw: tuple[int, int], min_score: float, max_people: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes (K, 4) XYXY in network pixels and scores (K,) from one image's maps (batch of 1)."""
    heat = torch.sigmoid(maps.heat[0, 0])
    rows, cols = math.ceil(image_hw[0] / STRIDE), math.ceil(image_hw[1] / STRIDE)
    heat = heat[:rows, :cols].contiguous()
    peaks = heat == F.max_pool2d(heat[None], 3, stride=1, padding=1)[0]
    scores = torch.where(peaks, heat, torch.zeros_like(heat)).flatten()
    scores, index = scores.topk(min(max_people, scores.numel()))
    keep = scores > min_score
    scores, index = scores[keep], index[keep]
    i, j = index // cols, index % cols
    offset, size = maps.offset[0], maps.size[0]
    cx = (j + offset[0, i, j]) * STRIDE
    cy = (i + offset[1, i, j]) * STRIDE
    half_w, half_h = size[0, i, j].exp() * (STRIDE / 2), size[1, i, j].exp() * (STRIDE / 2)
    boxes = clip_boxes(torch.stack((cx - half_w, cy - half_h, cx + half_w, cy + half_h), dim=1), *image_hw)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= 1) & ((boxes[:, 3] - boxes[:, 1]) >= 1)
    boxes, scores = boxes[keep], scores[keep]
    keep = nms(boxes, scores, NMS_IOU)
    return boxes[keep], scores[keep]


def assign_cells(maps: LightMaps, boxes: torch.Tensor) -> torch.Tensor:
    """(h, w) index of the person each cell belongs to: nearest box centre to the cell's vote, in box-size units."""
    _, _, rows, cols = maps.instance.shape
    ys = (torch.arange(rows, dtype=torch.float32, device=boxes.device) + 0.5) * STRIDE
    xs = (torch.arange(cols, dtype=torch.float32, device=boxes.device) + 0.5) * STRIDE
    vote_x = xs[None, :] + maps.instance[0, 0] * OFFSET_UNIT
    vote_y = ys[:, None] + maps.instance[0, 1] * OFFSET_UNIT
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    scale = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).sqrt()
    distance = ((vote_x[None] - centres[:, 0, None, None]) ** 2
                + (vote_y[None] - centres[:, 1, None, None]) ** 2).sqrt()
    return (distance / scale[:, None, None]).min(dim=0).indices  # several times faster than argmin(dim=0) on CPU


def _axis_samples(pixels: torch.Tensor, cells: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For network pixels ``pixels`` (indices along one axis): the two neighbouring cells and the weight of
    the second, as bilinear sampling (``align_corners=False``) with border clamping does it."""
    position = ((pixels.float() + 0.5) / STRIDE - 0.5).clamp(0, cells - 1)
    low = position.floor().long()
    return low, (low + 1).clamp(max=cells - 1), position - low


def labels_uv_at(maps: LightMaps, rows: torch.Tensor, cols: torch.Tensor, owner: torch.Tensor | None = None,
                 k: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Part labels (h, w) and U,V (2, h, w) at the network pixels ``rows`` x ``cols`` (index vectors of
    lengths h and w, any order, repeats allowed) of one image's maps.

    Part logits are sampled bilinearly at the pixel centres (rows first, then columns, channels last so
    that the argmax runs over contiguous values); a pixel whose cell belongs to another person than ``k``
    in ``owner`` (the cell-to-person map, None: everyone's) is 0. U and V are sampled bilinearly from the
    chosen part's own chart.
    """
    rows, row_of = torch.unique_consecutive(rows, return_inverse=True)  # each distinct pixel computed once
    cols, col_of = torch.unique_consecutive(cols, return_inverse=True)
    _, _, height, width = maps.parts.shape
    y0, y1, wy = _axis_samples(rows, height)
    x0, x1, wx = _axis_samples(cols, width)
    first, last = int(x0.min()), int(x1.max()) + 1
    band = maps.parts[0, :, :, first:last].permute(1, 2, 0)  # (height, band width, parts)
    along = band[y0] * (1 - wy)[:, None, None] + band[y1] * wy[:, None, None]
    logits = along[:, x0 - first] * (1 - wx)[None, :, None] + along[:, x1 - first] * wx[None, :, None]
    labels = logits.argmax(dim=-1)
    if owner is not None:
        nearest_y = torch.where(wy < 0.5, y0, y1)
        nearest_x = torch.where(wx < 0.5, x0, x1)
        labels *= owner[nearest_y[:, None], nearest_x[None, :]] == k
    # U, V of each pixel's own part: bilinear from that part's chart (four flat look-ups per map)
    base = (labels - 1).clamp(min=0) * (height * width)
    corners = [base + ys[:, None] * width + xs[None, :] for ys in (y0, y1) for xs in (x0, x1)]
    wx, wy = wx[None, :], wy[:, None]
    weights = [(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx]
    uv = torch.stack([sum(flat[c] * wgt for c, wgt in zip(corners, weights)) for flat in (maps.u[0].reshape(-1),
                                                                                        maps.v[0].reshape(-1))])
    uv = torch.where(labels > 0, uv, torch.zeros_like(uv))
    return labels[row_of[:, None], col_of[None, :]], uv[:, row_of[:, None], col_of[None, :]]


def pixels_under(start: int, count: int, scale: float, first: int, last: int, origin: float = 0.0) -> torch.Tensor:
    """For ``count`` pixels from ``start`` along one axis of an image: the index of the pixel under each
    one's centre in a copy of the image from ``origin`` on, scaled by ``scale``, kept within ``first .. last``."""
    centres = torch.arange(count, dtype=torch.float64) + (start + 0.5 - origin)
    return (centres * scale).floor().long().clamp(first, last)


def decode_image(output: torch.Tensor, image_hw: tuple[int, int], original_hw: tuple[int, int], min_score: float,
                 max_people: int = 100) -> DensePoseResult:
    """One image's network output (1, 80, h, w) -> :class:`DensePoseResult` in original-image pixels.

    Labels and U,V of each pixel of a person's input-size box are those of the network pixel under its
    centre (the image itself, or its shrunk copy ``image_hw``), kept within the person's network-size box.
    """
    output = output.float().cpu()
    boxes, scores = detect_people(split_maps(output), image_hw, min_score, max_people)
    original_boxes, keep = rescale_detections(boxes, scores, image_hw, original_hw)
    boxes, scores = boxes[keep], scores[keep]
    result = DensePoseResult(original_boxes.numpy().astype(np.float32), scores.numpy().astype(np.float32))
    if len(boxes) == 0:
        return result
    maps = split_maps(output.contiguous())  # channel planes for the per-box sampling
    owner = assign_cells(maps, boxes)
    scale_xy = (image_hw[1] / original_hw[1], image_hw[0] / original_hw[0])
    pairs = zip(int_boxes_xywh(boxes).tolist(), int_boxes_xywh(original_boxes).tolist())
    for k, ((x, y, w, h), (ox, oy, ow, oh)) in enumerate(pairs):
        rows = pixels_under(oy, oh, scale_xy[1], y, y + h - 1)
        cols = pixels_under(ox, ow, scale_xy[0], x, x + w - 1)
        labels, uv = labels_uv_at(maps, rows, cols, owner, k)
        result.labels.append(labels.to(torch.uint8).numpy())
        result.uv.append(uv.numpy())
    return result


def pad_batch(images_bgr: Sequence[np.ndarray], divisibility: int = LightDensePose.size_divisibility) -> torch.Tensor:
    """uint8 BGR images -> float (N, 3, H, W) padded to a multiple of ``divisibility`` with the mean colour.

    The tensor is channels-last in memory (the images' own pixel order, no transposing copy).
    """
    height = -(-max(im.shape[0] for im in images_bgr) // divisibility) * divisibility
    width = -(-max(im.shape[1] for im in images_bgr) // divisibility) * divisibility
    batch = np.empty((len(images_bgr), height, width, 3), np.float32)
    batch[:] = PIXEL_MEAN_BGR
    for i, image in enumerate(images_bgr):
        batch[i, : image.shape[0], : image.shape[1]] = image
    return torch.from_numpy(batch).permute(0, 3, 1, 2)


def shrink_to(image_bgr: np.ndarray, short_side: int | None) -> np.ndarray:
    """The image itself, or shrunk (PIL bilinear) so its shorter side is ``short_side`` (None: never)."""
    height, width = image_bgr.shape[:2]
    if short_side is None or min(height, width) <= short_side:
        return image_bgr
    scale = short_side / min(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image_bgr).resize(size, Image.BILINEAR))


class LightDensePosePredictor:
    """Run the light model (a :class:`LightDensePose` or any network callable, e.g. onnxruntime's) on BGR images.

    Implements :class:`human3d.densepose.predictor.DensePosePredictor`: ``predict(images)``
    (one forward pass for the batch) and ``__call__(image)``. Images are used at their own size
    (padded to a multiple of 32); an image whose shorter side exceeds ``short_side`` (default
    :data:`WORKING_SHORT_SIDE`) is shrunk to it first, so people appear at the sizes the model was
    trained on (about 50-350 pixels tall); results are always in input pixels.
    ``min_score`` is the centre-heatmap threshold (default 0.3).
    """

    def __init__(self, network: LightDensePose | Network, device: str | torch.device = "cpu",
                 min_score: float | None = None, short_side: int | None = WORKING_SHORT_SIDE, max_people: int = 100,
                 channels_last: bool = True) -> None:
        self.device = torch.device(device)
        self.min_score = DEFAULT_MIN_SCORE if min_score is None else float(min_score)
        self.short_side, self.max_people = short_side, max_people
        self.channels_last = channels_last and isinstance(network, torch.nn.Module)
        if isinstance(network, torch.nn.Module):
            network = network.to(self.device).eval()
            if self.channels_last:
                network = network.to(memory_format=torch.channels_last)
        self.network = network
        cuda = self.device.type == "cuda" and isinstance(network, torch.nn.Module)
        self.autocast = torch.autocast("cuda", dtype=torch.float16) if cuda else contextlib.nullcontext()

    @torch.inference_mode()
    def predict(self, images_bgr: Sequence[np.ndarray]) -> list[DensePoseResult]:
        """One forward pass for the whole batch; one :class:`DensePoseResult` per image, in input pixels."""
        resized = [shrink_to(image, self.short_side) for image in images_bgr]
        batch = pad_batch(resized).to(self.device)
        batch = batch.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        with self.autocast:
            output = self.network(batch)
        output = output.float()
        return [decode_image(output[i:i + 1], r.shape[:2], image.shape[:2], self.min_score, self.max_people)
                for i, (r, image) in enumerate(zip(resized, images_bgr))]

    def __call__(self, image_bgr: np.ndarray) -> DensePoseResult:
        """Predict one image."""
        return self.predict([image_bgr])[0]
