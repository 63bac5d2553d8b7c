"""Synthetic video: people walking across a fixed perspective camera, rendered frame by frame.

Each person keeps one shape, outfit and look for the whole clip and walks: the pose swings between two
sampled walking poses, one with each foot in front, the swinging leg's knee bent, and the body is carried
by the foot on the ground, which stays where it was put down (:class:`PlantedFoot`). Used for video demos
and tests of the video paths.
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

from human3d.body.model import BodyParams, PosedBody
from human3d.body.poses import sample_body_params
from human3d.geometry import cameras
from human3d.io.atomic import write_text_atomic
from human3d.io.video import video_writer
from human3d.synth import appearance
from human3d.synth.clothing import sample_outfit
from human3d.synth.renderer import shared_renderer
from human3d.synth.scene import Look, dress_person, place_body

STRIDE_PERIOD = 1.1  # seconds for one stride: a step with each foot
SWING_KNEE = np.radians(40.0)  # extra bend of the swinging leg's knee at mid-swing (the foot clears the ground)
ANKLES = {15: "lowerleg01.L", 16: "lowerleg01.R"}  # COCO-17 ankles and the knee bone above each


def other_ankle(ankle: int) -> int:
    """The COCO-17 index of the other ankle (15: left, 16: right)."""
    left, right = ANKLES
    return right if ankle == left else left


@dataclasses.dataclass
class Walker:
    """One person of a clip: two key poses (each with the other foot in front), a look, a start point and a
    heading. The pose swings from one key pose to the other and back, once per stride."""

    pose_a: BodyParams
    pose_b: BodyParams
    lead_a: int  # the COCO-17 ankle in front in pose_a (the other one is in front in pose_b)
    knees: dict[int, int]  # per COCO-17 ankle, the index of its knee bone in the pose
    look: Look
    start: np.ndarray
    yaw: float

    def at(self, seconds: float) -> tuple[BodyParams, int]:
        """Body parameters at time ``seconds`` and the ankle of the foot on the ground (the one that was in
        front at the last key pose: it is swept back while the other foot swings forward, knee bent)."""
        phase = 2.0 * seconds / STRIDE_PERIOD  # key poses at whole numbers: a, b, a, ...
        blend = 0.5 - 0.5 * np.cos(np.pi * phase)
        pose = (1 - blend) * self.pose_a.pose + blend * self.pose_b.pose
        stance = self.lead_a if int(np.floor(phase)) % 2 == 0 else other_ankle(self.lead_a)
        pose[self.knees[other_ankle(stance)], 0] += SWING_KNEE * np.sin(np.pi * (phase % 1.0))
        return dataclasses.replace(self.pose_a, pose=pose.astype(np.float32)), stance


class PlantedFoot:
    """Carries a walker by the foot on the ground: while a foot is down, its ankle keeps its place on the
    ground (x and z), and the body moves around it; when the other foot goes down, it is planted where it
    is. The body stays on the floor (:meth:`BodyModel.pose` puts its lowest point at y = 0)."""

    def __init__(self, start: np.ndarray, yaw: float) -> None:
        self.offset, self.turn = np.asarray(start, dtype=np.float64), cameras.yaw_matrix(yaw)
        self.stance: int | None = None
        self.planted = np.zeros(3)

    def place(self, body: PosedBody, stance: int) -> np.ndarray:
        """The world offset of ``body`` (posed, on the floor, unturned) with ankle ``stance`` on the ground."""
        ankles = body.keypoints_coco17 @ self.turn.T
        if self.stance is not None:
            self.offset = self.planted - ankles[self.stance]
            self.offset[1] = 0.0
        if stance != self.stance:
            self.stance, self.planted = stance, self.offset + ankles[stance]
        return self.offset


def _leading_ankle(body_model, params: BodyParams) -> int:
    """The COCO-17 ankle further in front (the body's z) in the pose ``params``."""
    ankles = list(ANKLES)
    return ankles[int(np.argmax(body_model.pose(params).keypoints_coco17[ankles, 2]))]


def _walkers(rng: np.random.Generator, people: int, body_model, tries: int = 20) -> list[Walker]:
    walkers = []
    knees = {ankle: body_model.bone_names.index(bone) for ankle, bone in ANKLES.items()}
    for k in range(people):
        pose_a = sample_body_params(rng, "walking", body_model)
        lead_a = _leading_ankle(body_model, pose_a)
        for _ in range(tries):  # the second key pose leads with the other foot
            pose_b = dataclasses.replace(sample_body_params(rng, "walking", body_model), phenotype=pose_a.phenotype)
            if _leading_ankle(body_model, pose_b) != lead_a:
                break
        look = Look(sample_outfit(rng), appearance.skin_material(rng), appearance.hair_material(rng))
        rightward = k % 2 == 0
        start = np.array([-1.3 if rightward else 1.3, 0.0, -1.2 * k + rng.uniform(-0.2, 0.2)])
        yaw = (np.pi / 2 if rightward else -np.pi / 2) + rng.uniform(-0.25, 0.25)
        walkers.append(Walker(pose_a, pose_b, lead_a, knees, look, start, yaw))
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
    carriers = [PlantedFoot(walker.start, walker.yaw) for walker in walkers]
    camera = cameras.perspective(np.array([0.0, 0.9, -0.6 * (people - 1)]), 45.0, 3.6 + 0.6 * people, width, height,
                                 pitch=0.05)
    lighting = appearance.sample_lighting(rng)
    background = appearance.procedural_background(rng, width, height)
    renderer = shared_renderer()
    truth_frames = []
    with video_writer(path, fps) as append:
        for index in tqdm(range(frames), desc="clip", unit="frame", disable=not progress):
            surfaces, truth = [], []
            for instance, (walker, feet) in enumerate(zip(walkers, carriers), start=1):
                params, stance = walker.at(index / fps)
                posed = body_model.pose(params)
                body = place_body(posed, walker.yaw, feet.place(posed, stance))
                surfaces += dress_person(body, walker.look, rng, instance)[0]
                truth.append(truth_record(instance - 1, body, params, walker.yaw, camera))
            maps = renderer.render(surfaces, camera, lighting)
            foreground = np.clip(np.rint(maps.rgb * 255), 0, 255).astype(np.uint8)
            append(np.where(maps.mask[..., None], foreground, background))
            truth_frames.append({"frame": index, "people": truth})
    document = {"fps": fps, "width": width, "height": height, "frames": truth_frames}
    write_text_atomic(truth_path(path), json.dumps(document, separators=(",", ":")) + "\n")
    return Path(path)
