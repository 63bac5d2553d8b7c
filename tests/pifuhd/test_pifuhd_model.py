"""Building the network from stored options (any valid configuration) and loading weights strictly."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import OrderedDict

import numpy as np
import pytest
import torch

from human3d.errors import Human3DError
from human3d.pifuhd.checkpoint import load_checkpoint, save_checkpoint
from human3d.pifuhd.model import PifuhdNet, build_pifuhd, checkpoint_dict, load_pifuhd
from human3d.pifuhd.options import CoarseConfig, FineConfig, GeneratorConfig, PifuhdConfig, pifuhd_options


@pytest.fixture()
def reference(reference_checkpoint):
    return load_checkpoint(reference_checkpoint)


def test_reference_builds_from_its_options(reference):
    model = build_pifuhd(reference)
    state = model.state_dict()
    assert list(state) == list(reference["model_state_dict"])
    options = model.options
    assert options == pifuhd_options(reference)
    assert options.front_generator == GeneratorConfig(ngf=4, n_downsampling=4, n_blocks=1)
    assert options.coarse.phi_dim == reference["opt_netG"].mlp_dim[reference["opt_netG"].merge_layer + 1]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda sd: sd.pop("mlp.filters.0.bias"), "missing key 'mlp.filters.0.bias'"),
        (lambda sd: sd.pop("image_filter.conv2.downsample.0.weight"),
         "missing key 'image_filter.conv2.downsample.0.weight'"),
        (lambda sd: sd.__setitem__("extra.weight", torch.zeros(1)), "unexpected key 'extra.weight'"),
        (lambda sd: sd.__setitem__("netG.mlp.filters.1.weight", torch.zeros(3, 3, 1)),
         "'netG.mlp.filters.1.weight' has shape"),
    ],
)
def test_mismatching_state_dict_names_the_first_bad_key(reference, tmp_path, edit, message):
    edit(reference["model_state_dict"])
    path = tmp_path / "bad.pt"
    save_checkpoint(reference, path)
    with pytest.raises(Human3DError) as caught:
        load_pifuhd(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: checkpoint does not match the network built from its options")
    assert message in text and "\n" not in text


def test_options_that_disagree_with_the_weights_are_refused(reference):
    reference["opt_netG"].num_stack = 3
    with pytest.raises(Human3DError, match=r"missing key 'netG\.image_filter\.bl1\.weight'"):
        build_pifuhd(reference)
    del reference["opt"].hg_dim
    with pytest.raises(Human3DError, match="lack 'hg_dim'"):
        build_pifuhd(reference)


def _released_checkpoint(shapes_json) -> dict:
    spec = json.loads(shapes_json.read_text())
    config = spec["config"]
    state = OrderedDict()
    aliases = {b: a for a, b in spec["aliased_entries_same_tensor"]}
    for entry in spec["entries"]:
        key = entry["key"]
        state[key] = state[aliases[key]] if key in aliases else torch.empty(entry["shape"], dtype=torch.float32)
    return {
        "opt": argparse.Namespace(**config["opt (fine)"], name="synthetic"),
        "opt_netG": argparse.Namespace(**config["opt_netG (coarse)"]),
        "model_state_dict": state,
    }, spec


def test_released_size_model_builds_and_loads(pifuhd_reference):
    checkpoint, spec = _released_checkpoint(pifuhd_reference / "pifuhd_full_state_dict_shapes.json")
    model = build_pifuhd(checkpoint)
    assert list(model.state_dict()) == [entry["key"] for entry in spec["entries"]]
    assert sum(p.numel() for p in model.parameters()) == spec["num_parameters_unique"]
    assert model.options.front_generator == GeneratorConfig(ngf=64, n_downsampling=4, n_blocks=9)
    assert model.options.coarse.phi_dim == 256 and model.options.coarse.in_channels == 9
    # the weights are taken over, not copied
    key = "netG.netF.model.16.conv_block.1.weight"
    assert model.state_dict()[key].data_ptr() == checkpoint["model_state_dict"][key].data_ptr()


VARIANTS = {
    "depth2_batchnorm_mlp_group_front_only": PifuhdConfig(
        coarse=CoarseConfig(
            use_front_normal=True, use_back_normal=False, num_stack=1, hg_depth=2, hg_dim=32, norm="batch",
            hg_down="no_down", mlp_dim=(33, 64, 32, 32, 1), mlp_res_layers=(1, 3), merge_layer=-1,
            mlp_norm="group", load_size=64, z_size=100.0,
        ),
        fine=FineConfig(num_stack=2, hg_depth=2, hg_dim=16, norm="batch", mlp_dim=(48, 32, 1),
                         mlp_res_layers=(1,), mlp_norm="group", load_size_big=128),
        front_generator=GeneratorConfig(ngf=4, n_downsampling=2, n_blocks=2),
        back_generator=None,
    ),
    "group_mlp_batch_both_normals": PifuhdConfig(
        coarse=CoarseConfig(
            use_front_normal=True, use_back_normal=True, num_stack=3, hg_depth=3, hg_dim=12, norm="group",
            hg_down="ave_pool", mlp_dim=(13, 24, 20, 10, 1), mlp_res_layers=(2,), merge_layer=1,
            mlp_norm="batch", load_size=512, z_size=200.0,
        ),
        fine=FineConfig(num_stack=1, hg_depth=1, hg_dim=4, norm="group", mlp_dim=(24, 8, 8, 1),
                         mlp_res_layers=(1, 2), mlp_norm="batch", load_size_big=128),
        front_generator=GeneratorConfig(ngf=2, n_downsampling=3, n_blocks=1),
        back_generator=GeneratorConfig(ngf=2, n_downsampling=3, n_blocks=1),
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_other_configurations_round_trip_through_the_official_format(name, tmp_path):
    torch.manual_seed(3)
    options = VARIANTS[name]
    model = PifuhdNet(options).eval()
    for module in model.modules():  # give norms and their statistics non-trivial values
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = tmp_path / f"{name}.pt"
    save_checkpoint(checkpoint_dict(model, name), path)
    loaded = load_pifuhd(path)
    assert loaded.options == options
    image_coarse = torch.rand(1, 3, 64, 64) * 2 - 1
    image_fine = torch.rand(1, 3, 128, 128) * 2 - 1
    points = torch.rand(1, 3, 200) * 2.4 - 1.2
    with torch.no_grad():
        expected = model.query(model.encode(image_coarse, image_fine), points)
        got = loaded.query(loaded.encode(image_coarse, image_fine), points)
    for a, b in zip(expected, got):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    fine = expected[0][0, 0].numpy()
    assert 0.0 < fine.std() and np.all((fine >= 0) & (fine <= 1))
    outside = (points[0, :2].abs() > 1).any(0).numpy()
    assert np.all(fine[outside] == 0)
    phi_width = options.coarse.mlp_dim[options.coarse.phi_index + 1]
    assert expected[2].shape == (1, phi_width, 200)


def test_inconsistent_widths_are_refused():
    options = VARIANTS["group_mlp_batch_both_normals"]
    broken = dataclasses.replace(options, fine=dataclasses.replace(options.fine, mlp_dim=(99, 8, 1)))
    with pytest.raises(Human3DError, match=r"fine mlp_dim\[0\]=99"):
        PifuhdNet(broken)


@pytest.mark.parametrize("in_channels, out_channels", [(128, 128), (64, 128)])
def test_conv_block_inference_path_equals_the_training_path(in_channels, out_channels):
    """The in-place sums of the inference path give the concatenate-then-add of training (up to the rounding of
    the fast convolutions)."""
    from human3d.pifuhd.hourglass import ConvBlock

    torch.manual_seed(0)
    block = ConvBlock(in_channels, out_channels, "group").eval()
    x = torch.randn(1, in_channels, 12, 12)
    with torch.inference_mode():
        fast = block(x)
    x.requires_grad_(True)
    trained = block(x)
    trained.sum().backward()
    torch.testing.assert_close(fast, trained.detach(), rtol=1e-4, atol=1e-4)
    assert x.grad is not None
