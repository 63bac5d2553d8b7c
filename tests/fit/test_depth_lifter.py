"""The depth lifter: its inputs, its checkpoints, its training and the bundled lifter on rendered people."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from human3d.cli import main
from human3d.errors import Human3DError
from human3d.fit.depth_lifter import (
    DepthLifter,
    LifterOptions,
    build_depth_lifter,
    default_depth_lifter,
    lifted_depths,
    lifter_features,
    mirrored_keypoints,
    save_depth_lifter,
)
from human3d.fit.depth_lifter_training import LifterExamples, lifter_examples, lifter_scores, train_depth_lifter


def keypoints(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pixels = rng.uniform(100, 400, size=(2, 17, 2)).astype(np.float32)
    visibility = rng.uniform(0.3, 1.0, size=(2, 17)).astype(np.float32)
    return pixels, visibility, rng.normal(0, 40, size=(2, 17)).astype(np.float32)


def test_features_do_not_change_with_where_the_person_stands_or_their_size():
    pixels, visibility, depths = keypoints()
    scale = np.array([300.0, 250.0], dtype=np.float32)
    features = lifter_features(pixels, visibility, depths, scale)
    assert features.shape == (2, 68)
    moved = lifter_features(2 * pixels + np.float32([30, -50]), visibility, 2 * depths, 2 * scale)
    assert torch.allclose(features, moved, atol=1e-5)
    visibility[0, 9] = 0.0  # a wrist not seen: its inputs are zeros
    unseen = lifter_features(pixels, visibility, depths, scale)
    assert unseen[0, 18] == unseen[0, 19] == unseen[0, 34 + 9] == unseen[0, 51 + 9] == 0.0


def test_mirroring_twice_gives_the_person_back_and_exchanges_the_sides():
    pixels, visibility, depths = keypoints()
    flipped = mirrored_keypoints(pixels, visibility, depths, 640.0)
    assert flipped[0][0, 5, 0] == pytest.approx(640.0 - pixels[0, 6, 0])  # the left shoulder: the right one's place
    assert flipped[2][0, 5] == depths[0, 6]
    again = mirrored_keypoints(*flipped, 640.0)
    for before, after in zip((pixels, visibility, depths), again):
        np.testing.assert_allclose(after, before, atol=1e-4)


def test_a_saved_lifter_is_read_back_and_bad_files_are_one_line_errors(tmp_path):
    lifter = DepthLifter(LifterOptions(width=16)).eval()
    save_depth_lifter(lifter, tmp_path / "lifter.pt", {"steps": 0})
    read = build_depth_lifter(tmp_path / "lifter.pt")
    assert read.options == LifterOptions(width=16) and not read.training
    pixels, visibility, depths = keypoints()
    features = lifter_features(pixels, visibility, depths, np.array([300.0, 300.0]))
    with torch.no_grad():
        assert torch.equal(read(features), lifter(features))
    with pytest.raises(Human3DError, match=r"missing\.pt: no such depth-lifter checkpoint$"):
        build_depth_lifter(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(Human3DError, match=r"text\.pt: not a readable checkpoint \("):
        build_depth_lifter(tmp_path / "text.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(Human3DError, match=r"other\.pt: not a human3d-depth-lifter checkpoint$"):
        build_depth_lifter(tmp_path / "other.pt")
    torch.save({"format": "human3d-depth-lifter", "version": 1, "options": {"width": 32, "dropout": 0.2},
                "model": lifter.state_dict()}, tmp_path / "mismatch.pt")
    with pytest.raises(Human3DError, match=r"mismatch\.pt: weights do not match the network its options describe"):
        build_depth_lifter(tmp_path / "mismatch.pt")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Eight rendered people (a held-out seed, not the bundled lifter's), found by the people finder."""
    pytest.importorskip("mediapipe")
    data = tmp_path_factory.mktemp("renders")
    assert main(["synth", "--out", str(data), "--count", "8", "--size", "512", "--seed", "424242"]) == 0
    return data, lifter_examples(data, progress=False)


def test_examples_pair_each_found_person_with_their_true_depths(rendered, tmp_path):
    data, examples = rendered
    assert len(examples) == 8 and examples.pixels.shape == (8, 17, 2)
    np.testing.assert_allclose(examples.truth[:, [11, 12]].mean(axis=1), 0.0, atol=1e-3)  # relative to the hips
    # a standing adult is under a metre deep: within one box height of the hips
    assert np.abs(examples.truth).max() < examples.scale.max()
    examples.save(tmp_path / "examples.npz")
    again = LifterExamples.load(tmp_path / "examples.npz")
    assert np.array_equal(again.truth, examples.truth) and list(again.names) == list(examples.names)
    np.savez(tmp_path / "other.npz", pixels=examples.pixels)
    with pytest.raises(Human3DError, match=r"other\.npz: not a human3d-depth-lifter-examples file$"):
        LifterExamples.load(tmp_path / "other.npz")


def test_the_bundled_lifter_reads_depths_better_than_blazepose(rendered):
    _, examples = rendered
    scores = lifter_scores(default_depth_lifter(), examples)
    assert scores["people"] == 8
    assert scores["lifter"] < 0.7 * scores["blazepose"], scores
    one = lifted_depths(default_depth_lifter(), examples.pixels[0], examples.visibility[0], examples.depths[0],
                        float(examples.scale[0]))
    assert one.shape == (17,) and one.dtype == np.float32


def test_training_learns_the_examples(rendered):
    _, examples = rendered
    untrained = lifter_scores(DepthLifter(LifterOptions(width=32)).eval(), examples)
    trained = lifter_scores(train_depth_lifter(examples, steps=300, options=LifterOptions(width=32),
                                               progress=False), examples)
    assert trained["lifter"] < 0.5 * untrained["lifter"], (trained, untrained)


def test_the_train_command_writes_a_lifter_and_its_examples(rendered, tmp_path, capsys):
    data, _ = rendered
    out, saved = tmp_path / "run" / "lifter.pt", tmp_path / "examples.npz"
    assert main(["train", "depth-lifter", "--data", str(data), "--out", str(out), "--steps", "20",
                 "--save-examples", str(saved), "--heldout", str(data)]) == 0
    assert build_depth_lifter(out).options == LifterOptions()
    assert len(LifterExamples.load(saved)) == 8
    printed = capsys.readouterr().out
    assert f"wrote {out} (trained on 8 people, 20 steps)" in printed
    assert f"{data}: 8 people; depth error (rms, % of the box height): lifter" in printed
    trained = torch.load(out, weights_only=True)["trained"]
    assert trained["steps"] == 20 and trained["people"] == 8 and str(data) in trained["heldout"]


def test_the_train_command_refuses_missing_data_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "lifter.pt"
    assert main(["train", "depth-lifter", "--data", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip().endswith("nowhere: no such folder or examples file")
    assert not out.exists() and list(tmp_path.iterdir()) == []
