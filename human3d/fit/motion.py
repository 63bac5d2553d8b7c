"""3D motion of people from a video: found and tracked frame by frame, anny fitted, gathered per person.

Each frame's people come from the people finder, searched for every few frames and followed in between
(:class:`human3d.people.following.PeopleFollower`), and keep their ids through short occlusions
(:class:`human3d.people.tracking.PeopleTracker`), their legs' sides are named from the spots their feet
stand on (:mod:`human3d.people.leg_sides`), and their landmarks are smoothed over a short window centred
on each frame (:mod:`human3d.people.smoothing`; 0.75 s by default). A person seen in the last frame is fitted
from their last two fits, carried on (the placement at constant velocity, the bones at a damped one), with a
temporal term that pulls pose and placement toward that prediction (:meth:`human3d.fit.body_fit.BodyFitter.fit`):
that removes jitter without the lag of a moving average.
The camera is assumed static, so the camera frame is the world: a person's trajectory is their fitted
placement frame after frame, expressed with y up (``CAMERA_TO_WORLD``). Frames are fitted one at a
time, while a background thread finds the people of the next few (:data:`FIND_AHEAD`), and runs DensePose
on them when a predictor is given (its I, U, V are then fitted too); what is kept per person is one pose
and one placement per frame (a few kilobytes).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np
import roma
import torch

from human3d.body.motion import BodyMotion
from human3d.densepose.light.person_crops import PersonCropPredictor
from human3d.densepose.result import DensePoseResult
from human3d.fit.body_fit import BodyFit, BodyFitter, fittable
from human3d.fit.dense_correspondences import densepose_of
from human3d.io.read_ahead import read_ahead
from human3d.nn.threads import torch_threads
from human3d.people.finder import PeopleFinder, Person
from human3d.people.following import PeopleFollower
from human3d.people.leg_sides import SideWindow, name_leg_sides
from human3d.people.smoothing import smooth_people
from human3d.people.tracking import PeopleTracker

FIND_AHEAD = 16  # frames whose people may be found before the fit of the frame being fitted is done
FIT_THREADS = 1  # torch threads of the fit while the finder runs beside it

CAMERA_TO_WORLD = np.diag([1.0, -1.0, -1.0])
"""The static camera's frame (OpenCV: x right, y down, z forward) to the motion's world frame (x right,
y up, z toward the camera), the body world frame's axes (:mod:`human3d.body.model`)."""


@dataclass
class MotionTrack:
    """One person over the frames they were seen in: per frame a world pose and translation (not the mesh,
    so memory stays small), their shape, and their last fit (the next frame's warm start)."""

    id: int
    phenotype: dict[str, float]
    last: BodyFit
    earlier: BodyFit | None = None  # the fit of the frame before the last, when the person was seen in it
    frames: list[int] = field(default_factory=list)
    poses: list[np.ndarray] = field(default_factory=list)
    translations: list[np.ndarray] = field(default_factory=list)

    def add(self, frame: int, fit: BodyFit) -> None:
        """Record the person's fit of ``frame``."""
        pose, translation = world_placement(fit)
        self.frames.append(frame)
        self.poses.append(pose)
        self.translations.append(translation)
        self.earlier = self.last if len(self.frames) > 1 and self.frames[-2] == frame - 1 else None
        self.last = fit

    def motion(self, frame_count: int, fps: float) -> BodyMotion:
        """The person's :class:`BodyMotion` over all ``frame_count`` frames of the video, in the world frame;
        before they appear and after they leave, their first and last pose are held, and so across gaps."""
        seen = np.zeros(frame_count, dtype=bool)
        seen[self.frames] = True
        position = np.cumsum(seen) - 1  # index into this track's frames of the last one seen so far
        position[position < 0] = 0
        return BodyMotion(self.phenotype, np.stack(self.poses)[position], np.stack(self.translations)[position],
                          fps, self.id)


def world_placement(fit: BodyFit) -> tuple[np.ndarray, np.ndarray]:
    """A fit's pose (104, 3) with the root row turning the body into the world frame, and its translation."""
    rotation = CAMERA_TO_WORLD @ fit.rotation
    pose = fit.params.pose.copy()
    pose[0] = roma.rotmat_to_rotvec(torch.tensor(rotation)).numpy()
    return pose, (CAMERA_TO_WORLD @ fit.translation).astype(np.float32)


def found_people(frames: Iterable[np.ndarray], finder: PeopleFinder, memory: int, smoothing: int = 0,
                 leg_sides: SideWindow | None = None) -> Iterator[tuple[np.ndarray, list[Person]]]:
    """Each frame with its fittable people, found (searched now and then, followed in between), tracked
    (ids kept through gaps of up to ``memory`` frames), their legs named from the spots their feet stand on
    over ``leg_sides`` (:func:`human3d.people.leg_sides.name_leg_sides`; None: the finder's sides as they
    come), and their landmarks smoothed over ``smoothing`` frames before and after
    (:func:`human3d.people.smoothing.smooth_people`; 0: not smoothed)."""
    follower, tracker = PeopleFollower(finder), PeopleTracker(memory=memory)
    tracked = ((frame, fittable(tracker.update(follower.find(frame), frame))) for frame in frames)
    return smooth_people(name_leg_sides(tracked, leg_sides) if leg_sides else tracked, smoothing)


def with_densepose(found: Iterable[tuple[np.ndarray, list[Person]]], densepose: PersonCropPredictor | None
                   ) -> Iterator[tuple[np.ndarray, list[Person], DensePoseResult | None]]:
    """Each (RGB frame, people) with the DensePose of those people (None without a predictor or people)."""
    for frame, people in found:
        yield frame, people, densepose_of(densepose, frame, people)


def track_and_fit(frames: Iterable[np.ndarray], finder: PeopleFinder, fitter: BodyFitter, memory: int,
                  on_frame: Callable[[int, np.ndarray, list[Person], list[BodyFit]], None],
                  meshes: bool = True, ahead: int = FIND_AHEAD, smoothing: int = 0,
                  densepose: PersonCropPredictor | None = None, leg_sides: SideWindow | None = None
                  ) -> dict[int, MotionTrack]:
    """Find, track and fit the people of every frame; ``on_frame(index, frame, people, fits)`` is called as
    each frame is done (to stream outputs); ``meshes``: whether the fits carry their skin (for pictures);
    ``smoothing``: frames before and after over which the people's landmarks are smoothed (each frame is
    then fitted that many frames after it was found; see :func:`found_people`); ``leg_sides``: the window
    the legs' sides are named over (each frame is then fitted ``leg_sides.after`` frames later still; None:
    the finder's sides); ``densepose``: when given, each frame's people's DensePose (on their smoothed
    landmarks) is fitted too.
    The people of the next ``ahead`` frames are found (and their DensePose run) in a background thread while
    this frame is fitted (:func:`human3d.io.read_ahead.read_ahead`), and the fit keeps to one torch thread
    meanwhile (its many small operations gain nothing from more, and the finder gets the other cores).
    A person seen again after a gap is fitted afresh with their track's shape held, so a track keeps one
    body. Returns the tracks by id."""
    tracks: dict[int, MotionTrack] = {}
    found = found_people(frames, finder, memory, smoothing, leg_sides)
    found_ahead = read_ahead(with_densepose(found, densepose), ahead)
    with contextlib.closing(found_ahead) as found, torch_threads(FIT_THREADS):
        for index, (frame, people, result) in enumerate(found):
            known = [tracks.get(p.id) for p in people]
            seen = [t if t is not None and t.frames[-1] == index - 1 else None for t in known]
            fits = fitter.fit(people, frame.shape[1], frame.shape[0], [t and t.last for t in seen],
                              [t and t.earlier for t in seen], meshes, result, [t and t.phenotype for t in known])
            for person, fit in zip(people, fits):
                tracks.setdefault(person.id, MotionTrack(person.id, fit.params.phenotype, fit)).add(index, fit)
            on_frame(index, frame, people, fits)
    return tracks
