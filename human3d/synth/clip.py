"""Synthetic video: people walking across a fixed perspective camera, rendered frame by frame.

Each person keeps one shape, outfit and look for the whole clip; the pose swings between two sampled
walking poses while the body moves along its heading. Used for video demos and tests of the video paths.
The ground truth is written beside the video (``<stem>.truth.json``, the structure of ``human3d motion``'s
JSON): per frame and person the COCO-17 joints in the camera frame (OpenCV: x right, y down, z forward,
metres), their pixels, the box, and anny's values, so that fitted motion can be scored.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from human3d.body.poses import sample_body_params
from human3d.geometry import cameras
from human3d.io.atomic import write_text_atomic
from human3d.io.video import video_writer
from human3d.synth import appearance
from human3d.synth.clothing import sample_outfit
from human3d.synth.renderer import shared_renderer
from human3d.synth.scene import Look, dress_person, place_body

WALKING_SPEED = 1.1  # metres per second
STRIDE_PERIOD = 1.1  # seconds for one swing back and forth between the two poses


@dataclasses.dataclass
class Walker:
    """One person of a clip: two key poses, a look, a start point and a heading."""

    pose_a: object
    pose_b: object
    look: Look
    start: np.ndarray
    yaw: float

    def at(self, seconds: float):
        """Body parameters and world offset at time ``seconds``."""
        blend = 0.5 - 0.5 * np.cos(2 * np.pi * seconds / STRIDE_PERIOD)
        pose = (1 - blend) * self.pose_a.pose + blend * self.pose_b.pose
        params = dataclasses.replace(self.pose_a, pose=pose.astype(np.float32))
        heading = np.array([np.sin(self.yaw), 0.0, np.cos(self.yaw)])
        return params, self.start + heading * WALKING_SPEED * seconds


def _walkers(rng: np.random.Generator, people: int, body_model) -> list[Walker]:
    walkers = []
    for k in range(people):
        pose_a = sample_body_params(rng, "walking", body_model)
        pose_b = dataclasses.replace(sample_body_params(rng, "walking", body_model), phenotype=pose_a.phenotype)
        look = Look(sample_outfit(rng), appearance.skin_material(rng), appearance.hair_material(rng))
        rightward = k % 2 == 0
        start = np.array([-1.6 if rightward else 1.6, 0.0, -1.2 * k + rng.uniform(-0.2, 0.2)])
        yaw = (np.pi / 2 if rightward else -np.pi / 2) + rng.uniform(-0.25, 0.25)
        walkers.append(Walker(pose_a, pose_b, look, start, yaw))
    return walkers


OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0])  # camera axes: y up, looking down -z -> y down, looking down +z


def truth_path(video: str | Path) -> Path:
    """Where a clip's ground truth lies: ``<stem>.truth.json`` beside the video."""
    video = Path(video)
    return video.with_name(f"{video.stem}.truth.json")


def truth_record(walker_id: int, body, params, yaw: float, camera: cameras.Camera) -> dict:
    """One person of one frame as the truth file holds it (camera frame, metres; pixels). ``rotation`` and
    ``translation`` place anny's unplaced body (:meth:`BodyModel.forward_unplaced`) in the camera frame, as
    ``human3d body`` writes them: the placed body's root is where the unplaced root (the origin) goes."""
    joints = camera.to_camera(body.keypoints_coco17) @ OPENGL_TO_OPENCV.T
    rotation = OPENGL_TO_OPENCV @ camera.view[:3, :3] @ cameras.yaw_matrix(yaw)
    translation = camera.to_camera(body.joints[:1])[0] @ OPENGL_TO_OPENCV.T
    pixels = camera.to_pixels(body.keypoints_coco17)[:, :2]
    corners = camera.to_pixels(body.vertices)[:, :2]
    box = [*corners.min(axis=0), *corners.max(axis=0)]
    return {"id": walker_id, "box_xyxy": np.round(box, 2).tolist(),
            "joints_coco17_3d": np.round(joints, 5).tolist(), "keypoints_coco17_2d": np.round(pixels, 2).tolist(),
            "anny": {"phenotype": {k: round(float(v), 6) for k, v in params.phenotype.items()},
                     "pose": np.round(params.pose, 6).tolist(), "rotation": np.round(rotation, 9).tolist(),
                     "translation": np.round(translation, 6).tolist()}}


def render_walking_clip(
    path: str | Path,
    frames: int = 48,
    people: int = 2,
    seed: int = 0,
    width: int = 640,
    height: int = 360,
    fps: float = 24.0,
    progress: bool = True,
) -> Path:
    """Write an MP4 of ``people`` walking past a fixed camera (procedural background) and its ground truth
    (:func:`truth_path`); returns ``path``."""
    from human3d.body.model import get_body_model

    if frames < 1 or people < 1 or width < 16 or height < 16 or fps <= 0:
        raise ValueError("frames, people >= 1, width, height >= 16 and fps > 0 are required")
    rng = np.random.default_rng([seed, 7])
    body_model = get_body_model()
    walkers = _walkers(rng, people, body_model)
    camera = cameras.perspective(np.array([0.0, 0.9, -0.6 * (people - 1)]), 45.0, 3.6 + 0.6 * people, width, height,
                                 pitch=0.05)
    lighting = appearance.sample_lighting(rng)
    background = appearance.procedural_background(rng, width, height)
    renderer = shared_renderer()
    truth_frames = []
    with video_writer(path, fps) as append:
        for index in tqdm(range(frames), desc="clip", unit="frame", disable=not progress):
            surfaces, truth = [], []
            for instance, walker in enumerate(walkers, start=1):
                params, offset = walker.at(index / fps)
                body = place_body(body_model.pose(params), walker.yaw, offset)
                surfaces += dress_person(body, walker.look, rng, instance)[0]
                truth.append(truth_record(instance - 1, body, params, walker.yaw, camera))
            maps = renderer.render(surfaces, camera, lighting)
            foreground = np.clip(np.rint(maps.rgb * 255), 0, 255).astype(np.uint8)
            append(np.where(maps.mask[..., None], foreground, background))
            truth_frames.append({"frame": index, "people": truth})
    document = {"fps": fps, "width": width, "height": height, "frames": truth_frames}
    write_text_atomic(truth_path(path), json.dumps(document, separators=(",", ":")) + "\n")
    return Path(path)
