"""Calibrate the people finder's keypoint offsets on anny (:mod:`human3d.fit.keypoint_offsets`) from
synthetic clips with their truth.

For every person the finder finds in a frame of a clip (``human3d synth-clip``, which writes the truth
beside the video), the true body is posed through the keypoint rig, its keypoints moved by the offsets,
projected with the clip's camera and compared with the finder's; the offsets that fit best over all of
them (robust 2D error, as the fit's) are written to ``human3d/data/keypoint_offsets.json`` with the clips
they came from::

    python -m human3d.fit.offset_calibration CLIPS_DIR [--out FILE]

Never calibrate on the clips motion is scored on.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import roma
import torch
from tqdm import tqdm

from human3d.body.keypoint_rig import posed_keypoints
from human3d.body.keypoints import COCO17_NAMES
from human3d.body.model import PHENOTYPE_NAMES
from human3d.eval.motion_metrics import pair_people
from human3d.fit.body_fit import BodyFitter, fittable, geman_mcclure, keypoint_targets
from human3d.fit.camera import box_scale, pinhole
from human3d.fit.keypoint_offsets import ALONE, OFFSETS_PATH, mirrored, offset_moments
from human3d.io.atomic import write_text_atomic
from human3d.io.video import VideoReader
from human3d.people.finder import PeopleFinder, build_people_finder
from human3d.synth.clip import truth_path


@dataclass
class Observation:
    """A true body and what the finder saw of it in one frame: phenotype [6], fitted-bone rotation vectors
    [len(FITTED_BONES), 3], placement (``rotation`` [3, 3] including anny's root turn, ``translation`` [3]),
    the frame's camera ``[focal, cx, cy]``, the finder's keypoints [17, 2], their weights [17] and the
    person's box height in pixels."""

    phenotype: np.ndarray
    pose: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    camera: np.ndarray
    keypoints: np.ndarray
    weight: np.ndarray
    scale: float


def calibrate(fitter: BodyFitter, observations: list[Observation], steps: int = 300,
              regulariser: float = 1.0) -> np.ndarray:
    """The offsets [17, 3] that best move the true bodies' keypoints onto the finder's: robust
    (Geman-McClure, as the fit) 2D error in box heights, ``regulariser`` per square metre of offset."""
    stack = lambda name: torch.tensor(np.array([getattr(o, name) for o in observations]), dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        heads, moments = fitter.shaped(stack("phenotype"), offsets=False)
    rotations = roma.rotvec_to_rotmat(stack("pose")[:, fitter.rig_order])
    placement, shift, camera = stack("rotation"), stack("translation"), stack("camera")
    target, weight, scale = stack("keypoints"), stack("weight"), stack("scale")
    share = weight / weight.sum(dim=1, keepdim=True).clamp(min=1.0)
    free = torch.zeros(len(ALONE), 3, requires_grad=True)
    optimiser = torch.optim.Adam([free], lr=0.002)
    for _ in range(steps):
        optimiser.zero_grad()
        moved = moments + offset_moments(fitter.rig, mirrored(free))[None]
        keypoints = posed_keypoints(fitter.rig, heads, moved, rotations)[:, :17]
        points = keypoints @ placement.transpose(1, 2) + shift[:, None]
        pixels = pinhole(points, camera[:, None, :1], camera[:, None, 1:])
        robust = geman_mcclure((pixels - target) / scale[:, None, None], fitter.config.robust_scale)
        loss = (share * robust.pow(2).sum(-1)).sum() / len(observations) + regulariser * free.pow(2).sum()
        loss.backward()
        optimiser.step()
    return mirrored(free.detach()).numpy()


def clip_camera(people: list[dict]) -> np.ndarray:
    """A truth frame's pinhole camera ``[focal, cx, cy]``, solved from its people's 3D joints and pixels."""
    joints = np.concatenate([np.array(p["joints_coco17_3d"]) for p in people])
    pixels = np.concatenate([np.array(p["keypoints_coco17_2d"]) for p in people])
    ratio = joints[:, :2] / joints[:, 2:]
    rows = np.zeros((2 * len(joints), 3))
    rows[0::2, 0], rows[0::2, 1] = ratio[:, 0], 1.0
    rows[1::2, 0], rows[1::2, 2] = ratio[:, 1], 1.0
    return np.linalg.lstsq(rows, pixels.reshape(-1), rcond=None)[0]


def observations_from_clip(video: Path, finder: PeopleFinder, fitter: BodyFitter) -> list[Observation]:
    """The finder's people in every frame of ``video``, paired by box with the clip's true people."""
    truth = json.loads(truth_path(video).read_text())
    observations = []
    for frame, true_frame in zip(VideoReader(video), truth["frames"]):
        people = fittable(finder.find(frame))
        pairs = pair_people([{"box_xyxy": p.box_xyxy} for p in people], true_frame["people"])
        camera = clip_camera(true_frame["people"]) if pairs else None
        for found, true in ((people[i], true_frame["people"][j]) for i, j in pairs):
            anny = true["anny"]
            pose = np.array(anny["pose"], dtype=np.float64)
            root = roma.rotvec_to_rotmat(torch.tensor(pose[0])).numpy()
            keypoints, weight, _ = keypoint_targets(found)
            observations.append(Observation(
                np.array([anny["phenotype"][name] for name in PHENOTYPE_NAMES]), pose[fitter.bones],
                np.array(anny["rotation"]) @ root, np.array(anny["translation"]), camera, keypoints, weight,
                box_scale(found.box_xyxy)))
    return observations


def save_offsets(offsets: np.ndarray, sources: list[str], path: Path = OFFSETS_PATH) -> None:
    """Write the calibration file: the offsets by keypoint name and where they came from."""
    document = {"what": "people finder keypoints minus anny's, in the carrying bone's A-pose axes (metres)",
                "made_by": "python -m human3d.fit.offset_calibration", "date": datetime.date.today().isoformat(),
                "clips": sources,
                "offsets_m": {name: [round(float(v), 4) for v in row] for name, row in zip(COCO17_NAMES, offsets)}}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(document, indent=1) + "\n")


def main() -> None:
    """Calibrate on every clip of a folder and write the offsets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, help="a folder of human3d synth-clip videos with their truth")
    parser.add_argument("--out", type=Path, default=OFFSETS_PATH)
    args = parser.parse_args()
    videos = sorted(v for v in args.clips.glob("*.mp4") if truth_path(v).is_file())
    if not videos:
        sys.exit(f"human3d: {args.clips}: no human3d synth-clip video with its truth here")
    finder, fitter = build_people_finder(small_people=True), BodyFitter()
    observations = [o for video in tqdm(videos, unit="clip") for o in observations_from_clip(video, finder, fitter)]
    if not observations:
        sys.exit(f"human3d: {args.clips}: the people finder found nobody in these clips")
    offsets = calibrate(fitter, observations)
    save_offsets(offsets, [v.name for v in videos], args.out)
    print(f"{len(observations)} people in {len(videos)} clips; offsets (cm):")
    for name, row in zip(COCO17_NAMES, offsets):
        print(f"  {name:15s} {100 * row[0]:6.1f} {100 * row[1]:6.1f} {100 * row[2]:6.1f}")


if __name__ == "__main__":
    main()
