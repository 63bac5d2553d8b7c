"""Training the depth lifter (:mod:`human3d.fit.depth_lifter`) on the data engine's renders.

Each rendered person is found by the people finder, as a photo's would be, and what BlazePose says of them (COCO-17
pixels, visibilities, relative depths) is paired with their true keypoints' depths relative to the hips, in
pixels at the person's scale. Finding people is the slow part (about 0.3 s an image on 2 cores), so the pairs can
be saved (:meth:`LifterExamples.save`) and trained on again. Training mirrors every example left to right.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from tqdm import tqdm

from human3d.errors import Human3DError
from human3d.fit.body_fit import keypoint_targets
from human3d.fit.camera import box_scale
from human3d.fit.depth_lifter import (
    HIPS,
    DepthLifter,
    LifterOptions,
    lifter_features,
    mirrored_keypoints,
)
from human3d.formats.synth_sample import read_camera, read_meta, read_rgb, sample_dirs
from human3d.geometry.cameras import Camera
from human3d.people.landmarks import MIRRORED_COCO17

LEGS = (13, 14, 15, 16)  # knees and ankles
BLAZEPOSE_SCALE = 0.3  # BlazePose's depths at the scale they have on rendered people (the yardstick of the scores)
EXAMPLE_FORMAT = "human3d-depth-lifter-examples"
NEAR_HIPS = 0.5  # a found person is a true one when their hips lie this near (of the found box's longer side)


def box_side(box_xyxy: np.ndarray) -> float:
    """A box's longer side in pixels (at least 8)."""
    return max(float(box_xyxy[2] - box_xyxy[0]), float(box_xyxy[3] - box_xyxy[1]), 8.0)


@dataclass(frozen=True)
class LifterExamples:
    """Found people paired with their truth: BlazePose's ``pixels`` [N, 17, 2], ``visibility`` [N, 17] and
    relative ``depths`` [N, 17] (pixels), box heights ``scale`` [N], true relative depths ``truth`` [N, 17]
    (pixels at the person's scale) and the samples they came from, ``names`` [N]."""

    pixels: np.ndarray
    visibility: np.ndarray
    depths: np.ndarray
    scale: np.ndarray
    truth: np.ndarray
    names: np.ndarray

    def __len__(self) -> int:
        return len(self.scale)

    def save(self, path: str | Path) -> None:
        """Write the examples as a ``.npz`` that :meth:`load` reads."""
        with open(path, "wb") as file:  # a file, so that numpy adds no suffix to the name
            np.savez_compressed(file, format=EXAMPLE_FORMAT,
                                **{field.name: getattr(self, field.name) for field in fields(self)})

    @classmethod
    def load(cls, path: str | Path) -> LifterExamples:
        """Examples saved by :meth:`save`; a one-line error naming the file otherwise."""
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                if str(data.get("format", "")) != EXAMPLE_FORMAT:
                    raise Human3DError.for_path(path, f"not a {EXAMPLE_FORMAT} file")
                return cls(**{field.name: data[field.name] for field in fields(cls)})
        except (OSError, ValueError, KeyError) as error:
            raise Human3DError.for_path(path, f"unreadable examples ({type(error).__name__})") from None

    @classmethod
    def joined(cls, parts: Iterable[LifterExamples]) -> LifterExamples:
        """One set of all ``parts``' examples."""
        parts = list(parts)
        return cls(**{field.name: np.concatenate([getattr(part, field.name) for part in parts])
                      for field in fields(cls)})


def true_relative_depths(camera: Camera, keypoints_3d: np.ndarray) -> np.ndarray:
    """A rendered person's keypoints' depths (17,) relative to their hips' midpoint, in pixels at their scale
    (+ away from the camera) as ``camera`` sees them: orthographic, pixels per metre; perspective, the focal
    length over the hips' depth."""
    depth = camera.to_pixels(keypoints_3d)[:, 2]
    hips = depth[list(HIPS)].mean()
    pixels_per_metre = camera.projection[0, 0] * camera.width / 2
    if camera.kind == "perspective":
        pixels_per_metre /= hips
    return ((depth - hips) * pixels_per_metre).astype(np.float32)


def lifter_examples(data_dir: str | Path, finder=None, progress: bool = True) -> LifterExamples:
    """The people of a ``human3d synth`` dataset found in its images and paired with their truth. Each true
    person (with known keypoints) is paired with the found person whose hips lie nearest their true hips, within
    :data:`NEAR_HIPS` of the found box's longer side; people not found, or with too few keypoints seen, are left
    out.
    ``finder``: a :class:`human3d.people.finder.PeopleFinder` (default: the shared one)."""
    from human3d.people.finder import default_finder

    finder = default_finder() if finder is None else finder
    rows: dict[str, list] = {field.name: [] for field in fields(LifterExamples)}
    samples = sample_dirs(data_dir)
    for sample_dir in tqdm(samples, desc="finding people", unit="image", disable=not progress):
        people = [person for person in read_meta(sample_dir).get("people", [])
                  if person.get("keypoints_3d") is not None]
        found = finder.find(read_rgb(sample_dir)) if people else []
        camera = read_camera(sample_dir)[0] if people else None
        for person in people:
            true_hips = np.asarray(person["keypoints_2d"], dtype=np.float64)[list(HIPS), :2].mean(axis=0)
            distances = [np.linalg.norm(candidate.keypoints_coco17[list(HIPS), :2].mean(axis=0) - true_hips)
                         / box_side(candidate.box_xyxy) for candidate in found]
            if not distances or min(distances) > NEAR_HIPS:
                continue
            match = found[int(np.argmin(distances))]
            try:
                pixels, visibility, depths = keypoint_targets(match)
            except Human3DError:
                continue
            for name, value in (("pixels", pixels), ("visibility", visibility), ("depths", depths),
                                ("scale", box_scale(match.box_xyxy)), ("names", sample_dir.name),
                                ("truth", true_relative_depths(camera, np.asarray(person["keypoints_3d"])))):
                rows[name].append(value)
    if not rows["scale"]:
        raise Human3DError.for_path(data_dir, "no rendered person with known keypoints was found")
    return LifterExamples(**{name: np.asarray(value, dtype=np.str_ if name == "names" else np.float32)
                             for name, value in rows.items()})


def mirrored(examples: LifterExamples) -> LifterExamples:
    """The examples mirrored left to right (columns negated; each keypoint keeps its depth, under the other
    side's name)."""
    pixels, visibility, depths = mirrored_keypoints(examples.pixels, examples.visibility, examples.depths, 0.0)
    return LifterExamples(pixels, visibility, depths, examples.scale, examples.truth[:, list(MIRRORED_COCO17)],
                          examples.names)


def train_depth_lifter(examples: LifterExamples, steps: int = 6000, seed: int = 0, batch: int = 256,
                       learning_rate: float = 1e-3, options: LifterOptions = LifterOptions(),
                       progress: bool = True) -> DepthLifter:
    """A lifter trained on ``examples`` and their mirror images: AdamW with a one-cycle schedule, a smooth L1
    loss on depths in box heights, the inputs jittered by 0.01 box heights."""
    torch.manual_seed(seed)
    both = LifterExamples.joined([examples, mirrored(examples)])
    inputs = lifter_features(both.pixels, both.visibility, both.depths, both.scale)
    targets = torch.as_tensor(both.truth / both.scale[:, None])
    lifter = DepthLifter(options).train()
    optimizer = torch.optim.AdamW(lifter.parameters(), learning_rate, weight_decay=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, learning_rate, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(steps), desc="training the depth lifter", unit="step", disable=not progress):
        rows = torch.randint(0, len(inputs), (batch,), generator=generator)
        jittered = inputs[rows] + 0.01 * torch.randn(inputs[rows].shape, generator=generator)
        loss = torch.nn.functional.smooth_l1_loss(lifter(jittered), targets[rows], beta=0.05)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return lifter.eval()


def lifter_scores(lifter: DepthLifter, examples: LifterExamples) -> dict[str, float]:
    """Root-mean-square depth errors in hundredths of a box height (about cm for a standing adult), over all
    keypoints and over the knees and ankles: the lifter's, and BlazePose's read at :data:`BLAZEPOSE_SCALE`."""
    scale = examples.scale[:, None]
    with torch.inference_mode():  # every person at once (lifted_depths answers for one)
        lifted = lifter(lifter_features(examples.pixels, examples.visibility, examples.depths, examples.scale))
    lifted = lifted.numpy() * scale

    def rms(depths: np.ndarray, keypoints: tuple[int, ...] | slice = slice(None)) -> float:
        return float(100 * np.sqrt((((depths - examples.truth) / scale)[:, keypoints] ** 2).mean()))

    blazepose = BLAZEPOSE_SCALE * examples.depths
    return {"people": float(len(examples)), "lifter": rms(lifted), "blazepose": rms(blazepose),
            "lifter_legs": rms(lifted, LEGS), "blazepose_legs": rms(blazepose, LEGS)}
