"""One synthetic sample: posed, dressed people with appearance, lighting, a camera, every map.

Everything is drawn from ``np.random.default_rng([seed, index])``, so a sample depends only on
(seed, index, config): the same on any shard, worker count or re-run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from human3d.geometry import cameras
from human3d.geometry.cameras import Camera
from human3d.geometry.sampling import sample_training_points
from human3d.synth import appearance
from human3d.synth.camera_effects import apply_camera_effects
from human3d.synth.clothing import LABELS, Outfit, dress_body, sample_outfit
from human3d.synth.library_photos import LIBRARY_PHOTOS, library_photos, photo_patch
from human3d.synth.renderer import PHOTO_PATTERN, Lighting, Material, RenderResult, Surface, shared_renderer

CAMERAS = ("orthographic", "perspective")
PRINT_CHANCE = 0.5  # a garment's chance of a photo print (SceneConfig.photo_prints)
PRINTS_STREAM = 1  # the photo prints' random stream: np.random.default_rng([seed, index, PRINTS_STREAM])


@dataclass(frozen=True)
class SceneConfig:
    """What every sample of a run shares."""

    size: int = 512
    people: int = 1
    camera: str = "orthographic"
    backgrounds: tuple[Path, ...] = ()  # image files; empty = procedural backgrounds
    scans: tuple[Path, ...] = ()  # scan files to render instead of synthetic people
    points: int = 0  # labelled occupancy points per sample (0 = none)
    sigma: float = 0.05  # metres, Gaussian offset of surface samples
    camera_effects: bool = False  # motion blur, noise and JPEG drawn per sample (human3d.synth.camera_effects)
    photo_backgrounds: bool = False  # real photos behind the people (human3d.synth.library_photos)
    photo_prints: bool = False  # half the clothes printed with those photos (with_photo_prints)

    def to_dict(self) -> dict:
        settings = {"size": self.size, "people": self.people, "camera": self.camera, "points": self.points,
                    "sigma": self.sigma,
                    "backgrounds": len(self.backgrounds), "scans": [p.name for p in self.scans]}  # fmt: skip
        # only when on: earlier runs' settings stay as they were
        for name in ("camera_effects", "photo_backgrounds", "photo_prints"):
            if getattr(self, name):
                settings[name] = True
        return settings


@dataclass
class Person:
    """One placed, dressed person."""

    description: dict  # JSON-ready: phenotype, pose kind, outfit, placement
    keypoints: np.ndarray  # (17, 3) world (NaN where unknown, e.g. scans)
    surfaces: list[Surface]


@dataclass
class Sample:
    """Everything written for one sample."""

    index: int
    rgb: np.ndarray  # (H, W, 3) uint8, people over the background
    maps: RenderResult
    camera: Camera
    people: list[Person]
    mesh_vertices: np.ndarray  # (V, 3) float32: every closed shell of every person, world metres
    mesh_faces: np.ndarray  # (F, 3) int32
    keypoints_2d: np.ndarray  # (K, 17, 3): pixel x, pixel y, COCO visibility 0/1/2
    lighting: Lighting
    points: np.ndarray | None = None  # (N, 3) float32
    inside: np.ndarray | None = None  # (N,) bool
    camera_effects: dict | None = None  # what apply_camera_effects drew, when the run asks for them


def place_body(body, yaw: float, offset: np.ndarray):
    """The posed body turned by ``yaw`` about y and moved by ``offset`` (a new PosedBody)."""
    rotation = cameras.yaw_matrix(yaw)
    move = lambda points: (np.asarray(points, dtype=np.float64) @ rotation.T + offset).astype(np.float32)  # noqa: E731
    return dataclasses.replace(
        body, vertices=move(body.vertices), keypoints_coco17=move(body.keypoints_coco17), joints=move(body.joints)
    )


def placed_body(description: dict, body_model):
    """The placed anny body (a PosedBody, world metres) of a person's ``description`` as ``meta.json`` stores
    it (phenotype, pose, yaw, offset); None for a person that is not an anny body (a scan)."""
    from human3d.body.model import BodyParams

    if "pose" not in description:
        return None
    params = BodyParams(description["phenotype"], np.asarray(description["pose"], dtype=np.float32),
                        description.get("pose_kind", "rest"))
    return place_body(body_model.pose(params), description["yaw"], np.asarray(description["offset"], np.float64))


def make_person(body_model, rng: np.random.Generator, instance: int, yaw: float, offset: np.ndarray) -> Person:
    """Sample shape, pose, outfit and materials of one person and place it in the world."""
    from human3d.body.poses import sample_body_params

    params = sample_body_params(rng, model=body_model)
    body = place_body(body_model.pose(params), yaw, offset)
    look = Look(sample_outfit(rng), appearance.skin_material(rng), appearance.hair_material(rng))
    surfaces, garments = dress_person(body, look, rng, instance)
    description = {
        "phenotype": {k: round(float(v), 6) for k, v in params.phenotype.items()},
        "pose_kind": params.kind,
        "pose": np.round(params.pose, 6).tolist(),
        "outfit": dataclasses.asdict(look.outfit),
        "garments": [g.name for g in garments],
        "yaw": round(float(yaw), 6),
        "offset": [round(float(v), 6) for v in offset],
    }
    return Person(description, np.asarray(body.keypoints_coco17, dtype=np.float64), surfaces)


@dataclass
class Look:
    """What a person wears and looks like, kept across poses (one clip, one look)."""

    outfit: Outfit
    skin: Material
    hair: Material
    cloth: dict[str, Material] = dataclasses.field(default_factory=dict)  # per garment, drawn on first use


def dress_person(body, look: Look, rng: np.random.Generator, instance: int) -> tuple[list[Surface], list]:
    """The render surfaces of a placed body in ``look``: skin, then each garment; and the garments."""
    garments = dress_body(body, look.outfit)
    skin = Surface(body.vertices, body.faces, body.face_parts, body.corner_uv, look.skin, instance, LABELS["skin"])
    surfaces = [skin]
    for garment in garments:
        if garment.label == LABELS["hair"]:
            material = look.hair
        else:
            material = look.cloth.setdefault(garment.name, appearance.cloth_material(rng))
        shell = garment.shell
        surfaces.append(
            Surface(shell.vertices, shell.faces, shell.face_parts, shell.corner_uv, material, instance, garment.label,
                    normals=shell.shading_normals)
        )
    return surfaces, garments


def with_photo_prints(person: Person, rng: np.random.Generator, chance: float = PRINT_CHANCE) -> Person:
    """``person`` with each garment (not skin, not hair) printed with a library photo
    (:func:`appearance.photo_print_material`) with probability ``chance``."""
    plain = (LABELS["skin"], LABELS["hair"])
    surfaces = [s if s.label in plain or rng.random() >= chance
                else dataclasses.replace(s, material=appearance.photo_print_material(rng, len(LIBRARY_PHOTOS)))
                for s in person.surfaces]
    return dataclasses.replace(person, surfaces=surfaces)


def _frame(config: SceneConfig, vertices: np.ndarray, rng: np.random.Generator) -> Camera:
    """A camera framing every vertex (PIFuHD-style: centred, full body, small margin)."""
    low, high = vertices.min(0), vertices.max(0)
    centre = (low + high) / 2
    margin = rng.uniform(1.05, 1.2)
    half = 0.5 * max(high[1] - low[1], high[0] - low[0]) * margin
    if config.camera == "orthographic":
        return cameras.orthographic(centre, half, config.size, config.size)
    fov = rng.uniform(30.0, 55.0)
    distance = half / np.tan(np.radians(fov) / 2) + 0.5 * (high[2] - low[2])
    pitch = rng.uniform(-0.1, 0.2)
    return cameras.perspective(centre, fov, distance, config.size, config.size, pitch=pitch)


def _keypoints_2d(camera: Camera, keypoints: np.ndarray, instance_map: np.ndarray, instance: int) -> np.ndarray:
    """(17, 3) pixel x, y and COCO visibility: 2 on the person's visible pixels, 1 elsewhere in the image, 0 outside."""
    pixels = camera.to_pixels(keypoints)
    known = np.isfinite(pixels).all(axis=1)
    x, y = np.where(known, pixels[:, 0], 0.0), np.where(known, pixels[:, 1], 0.0)
    height, width = instance_map.shape
    inside = known & (x >= 0) & (x < width) & (y >= 0) & (y < height)
    cols, rows = np.clip(x.astype(int), 0, width - 1), np.clip(y.astype(int), 0, height - 1)
    visible = inside & (instance_map[rows, cols] == instance)
    return np.stack([x, y, np.where(visible, 2, np.where(inside, 1, 0))], axis=1)


def _synthetic_person(body_model, rng: np.random.Generator, config: SceneConfig, k: int) -> Person:
    yaw = rng.uniform(-np.pi, np.pi) if config.people == 1 else rng.uniform(-1.2, 1.2)
    spacing = rng.uniform(0.7, 0.9)
    depth = rng.uniform(-0.4, 0.4) if config.people > 1 else 0.0
    offset = np.array([(k - (config.people - 1) / 2) * spacing, 0.0, depth])
    return make_person(body_model, rng, k + 1, yaw, offset)


def make_sample(index: int, seed: int, config: SceneConfig, body_model) -> Sample:
    """Build and render sample ``index`` of the run with ``seed``: synthetic people, or (when
    ``config.scans`` is set) scan number ``index % len(scans)`` seen from a random side."""
    if config.camera not in CAMERAS:
        raise ValueError(f"camera must be one of {CAMERAS}")
    rng = np.random.default_rng([seed, index])
    if config.scans:
        from human3d.synth.scans import placed_scan

        description, surface = placed_scan(config.scans[index % len(config.scans)], rng)
        people = [Person(description, np.full((17, 3), np.nan), [surface])]
    else:
        people = [_synthetic_person(body_model, rng, config, k) for k in range(config.people)]
        if config.photo_prints:  # from their own stream: the rest of the sample is unchanged
            prints = np.random.default_rng([seed, index, PRINTS_STREAM])
            people = [with_photo_prints(person, prints) for person in people]
    return compose_sample(index, people, config, rng)


def compose_sample(index: int, people: list[Person], config: SceneConfig, rng: np.random.Generator) -> Sample:
    """Frame, light, render and label placed ``people`` (one sample)."""
    surfaces = [s for person in people for s in person.surfaces]
    vertices = np.concatenate([s.vertices for s in surfaces]).astype(np.float32)
    starts = np.cumsum([0] + [len(s.vertices) for s in surfaces[:-1]])
    faces = np.concatenate([np.asarray(s.faces) + start for s, start in zip(surfaces, starts)]).astype(np.int32)
    camera = _frame(config, vertices, rng)
    lighting = appearance.sample_lighting(rng)
    renderer = shared_renderer()
    if renderer.photo_count == 0 and any(s.material.pattern >= PHOTO_PATTERN for s in surfaces):
        renderer.set_photos(list(library_photos()))
    maps = renderer.render(surfaces, camera, lighting)
    if config.backgrounds:
        path = config.backgrounds[int(rng.integers(len(config.backgrounds)))]
        background = appearance.image_background(path, rng, config.size, config.size)
    elif config.photo_backgrounds:
        background = np.rint(photo_patch(config.size, config.size, rng) * 255).astype(np.uint8)
    else:
        background = appearance.procedural_background(rng, config.size, config.size)
    foreground = np.clip(np.rint(maps.rgb * 255), 0, 255).astype(np.uint8)
    rgb = np.where(maps.mask[..., None], foreground, background)
    keypoints_2d = np.stack([_keypoints_2d(camera, p.keypoints, maps.instance, k + 1) for k, p in enumerate(people)])
    sample = Sample(index, rgb, maps, camera, people, vertices, faces, keypoints_2d, lighting)
    if config.points:
        sample.points, sample.inside = sample_training_points(vertices, faces, config.points, rng, sigma=config.sigma)
    if config.camera_effects:  # drawn last, from their own generator: the rest of the sample is unchanged
        effects_rng = np.random.default_rng(int(rng.integers(2**63)))
        sample.rgb, sample.camera_effects = apply_camera_effects(rgb, effects_rng)
    return sample
