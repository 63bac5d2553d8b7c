"""``human3d synth-preview``: contact sheets and RGBA cut-outs of samples, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from human3d.cli import main
from human3d.formats.synth_sample import MASK
from human3d.synth.preview import COLUMNS

SIZE = 32


def fake_sample(folder: Path, value: int) -> Path:
    """A sample folder holding the five maps the preview reads (flat colours; the mask keeps the left half)."""
    folder.mkdir(parents=True)
    for name in COLUMNS:
        image = np.full((SIZE, SIZE, 3), value, np.uint8)
        if name == MASK:
            image[:, SIZE // 2:] = 0
        cv2.imwrite(str(folder / name), image)
    return folder


def test_rgba_cutout_keeps_the_person_and_makes_the_rest_transparent(tmp_path, capsys):
    sample = fake_sample(tmp_path / "out" / "samples" / "000000", 200)
    png = tmp_path / "person.png"
    assert main(["synth-preview", "rgba", str(sample), str(png)]) == 0
    picture = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
    assert picture.shape == (SIZE, SIZE, 4)
    assert (picture[:, : SIZE // 2] == 200).all()  # person: colour kept, alpha 200 (the mask's value)
    assert (picture[:, SIZE // 2:] == 0).all()  # background: black and transparent


def test_contact_sheet_tiles_the_chosen_samples(tmp_path):
    out = tmp_path / "out"
    for index in range(3):
        fake_sample(out / "samples" / f"{index:06d}", 50 * (index + 1))
    png = tmp_path / "sheet.png"
    assert main(["synth-preview", "sheet", str(out), str(png), "--count", "2", "--tile", "16", "--seed", "1"]) == 0
    sheet = cv2.imread(str(png), cv2.IMREAD_COLOR)
    assert sheet.shape == (16, 2 * len(COLUMNS) * 16, 3)  # one row of two samples, five tiles each
    firsts = {int(sheet[0, block * len(COLUMNS) * 16, 0]) for block in range(2)}
    assert len(firsts) == 2 and firsts <= {50, 100, 150}


def test_a_folder_that_is_not_a_sample_is_one_line_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    png = tmp_path / "pictures" / "person.png"
    assert main(["synth-preview", "rgba", str(tmp_path / "empty"), str(png)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"human3d: error: {tmp_path / 'empty'}: not a sample folder (rgb.png and mask.png needed)"]
    assert not png.parent.exists()
    assert main(["synth-preview", "sheet", str(tmp_path / "empty"), str(png)]) == 1
    assert f"{tmp_path / 'empty'}: no samples here" in capsys.readouterr().err
    assert not png.parent.exists()
