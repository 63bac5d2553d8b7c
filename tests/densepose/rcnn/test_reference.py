"""Our DensePose R-CNN against the official detectron2 run on the public records, stage by stage.

Tolerances are the reference README's suggested acceptance criteria.
"""

from __future__ import annotations

import numpy as np
import pytest


def _rel_err(ours, ref) -> float:
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


def test_config_recognised_from_checkpoint(staged):
    assert staged.out["record"].startswith(staged.out["config"] + "__")  # records are named <config>__<image>


def test_preprocessing_is_exact(staged):
    ref, out = staged.ref, staged.out
    np.testing.assert_array_equal(out["resized"], ref["input_resized_bgr_u8"])
    np.testing.assert_array_equal(out["batch"].numpy(), ref["input_normalized_padded_f32"])


def test_fpn_features(staged):
    ref, feats = staged.ref, staged.out["features"]
    y, x = staged.meta["fpn_p2_crop_origin_yx"]
    assert _rel_err(feats["p2"][0, :, y:y + 32, x:x + 32], ref["fpn_p2_crop_f32"]) <= 1e-4
    assert _rel_err(feats["p2"][0, :16], ref["fpn_p2_ch0-15_f16"]) <= 2e-3
    assert _rel_err(feats["p3"][0, :64], ref["fpn_p3_ch0-63_f16"]) <= 2e-3
    for level in ("p4", "p5", "p6"):
        assert feats[level].shape[1:] == ref[f"fpn_{level}_f16"].shape
        assert _rel_err(feats[level][0], ref[f"fpn_{level}_f16"]) <= 2e-3, level


def test_decoder_output(staged):
    ref, out = staged.ref, staged.out
    if "decoder_out_crop_f32" not in ref:
        assert "decoder" not in out  # legacy: the DensePose pooler reads p2..p5 directly
        return
    decoded = out["decoder"]
    y, x = staged.meta["decoder_out_crop_origin_yx"]
    assert _rel_err(decoded[0, :, y:y + 32, x:x + 32], ref["decoder_out_crop_f32"]) <= 1e-4
    assert _rel_err(decoded[0, :8], ref["decoder_out_ch0-7_f16"]) <= 2e-3


def test_rpn_dense_outputs(staged):
    ref, out = staged.ref, staged.out
    for level in range(5):
        np.testing.assert_allclose(out["rpn_logits"][level][0].numpy(), ref[f"rpn_objectness_logits_level{level}_f32"],
                                   rtol=0, atol=1e-3)
        if level == 0:
            assert _rel_err(out["rpn_deltas"][0][0], ref["rpn_anchor_deltas_level0_f16"]) <= 2e-3
        else:
            np.testing.assert_allclose(out["rpn_deltas"][level][0].numpy(), ref[f"rpn_anchor_deltas_level{level}_f32"],
                                       rtol=0, atol=1e-3)


def test_rpn_proposals_match_as_a_set(staged):
    ref, out = staged.ref, staged.out
    assert len(out["proposals"]) == len(ref["rpn_proposals_xyxy_all"])
    ours = out["proposals"].numpy().astype(np.float64)
    top = ref["rpn_proposals_xyxy_top100"].astype(np.float64)
    distance = np.abs(top[:, None, :] - ours[None, :, :]).max(axis=2).min(axis=1)
    assert (distance <= 0.05).mean() >= 0.95
    # logits sorted descending and the leading ones equal
    logits = out["proposal_logits"].numpy()
    assert np.all(np.diff(logits) <= 0)
    np.testing.assert_allclose(logits[:100], ref["rpn_proposals_logits_top100"], atol=1e-3)


def test_box_head_raw_outputs(staged):
    ref, out = staged.ref, staged.out
    np.testing.assert_allclose(out["box_logits"].numpy(), ref["box_cls_logits"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(out["box_deltas"].numpy(), ref["box_deltas"], rtol=0, atol=1e-3)


def test_final_detections(staged):
    ref, result = staged.ref, staged.out["result"]
    assert len(result) == len(ref["final_scores"])
    np.testing.assert_allclose(result.boxes_xyxy, ref["final_boxes_xyxy_orig"], rtol=0, atol=0.01)
    np.testing.assert_allclose(result.scores, ref["final_scores"], rtol=0, atol=1e-4)
    assert result.boxes_xyxy.dtype == np.float32 and result.scores.dtype == np.float32
    np.testing.assert_array_equal(result.boxes_xywh_int, [i["int_box_xywh"] for i in staged.meta["iuv"]])


def test_densepose_pooled_and_head(staged):
    ref, out = staged.ref, staged.out
    pooled, head = out["pooled"].numpy(), out["head"].numpy()
    np.testing.assert_allclose(pooled[:2], ref["dp_pooled_inst0-1_f32"], rtol=0, atol=1e-3)
    stats = np.stack([pooled.mean(axis=(2, 3)), pooled.std(axis=(2, 3), ddof=1)], -1)
    np.testing.assert_allclose(stats, ref["dp_pooled_chstats"], rtol=0, atol=1e-3)
    assert _rel_err(head[:1], ref["dp_head_out_inst0_f16"]) <= 2e-3
    head_stats = np.stack([head.mean(axis=(2, 3)), head.std(axis=(2, 3), ddof=1)], -1)
    assert _rel_err(head_stats, ref["dp_head_out_chstats"]) <= 1e-3


@pytest.mark.parametrize("name, attr", [("ann_index_lowres", "coarse_segm"), ("index_uv_lowres", "fine_segm"),
                                        ("u_lowres", "u"), ("v_lowres", "v")])
def test_chart_predictor_outputs(staged, name, attr):
    ref, out = staged.ref, staged.out
    lowres = getattr(out["lowres"], attr).numpy()
    np.testing.assert_allclose(lowres[:5], ref[f"dp_lowres_{name}_inst0-4_f32"], rtol=0, atol=1e-3)
    if len(lowres) > 5:
        assert _rel_err(lowres[5:], ref[f"dp_lowres_{name}_inst5+_f16"]) <= 2e-3
    upsampled = getattr(out["charts"], attr).numpy()
    np.testing.assert_allclose(upsampled[:1], ref[f"dp_{attr}_inst0_f32"], rtol=0, atol=1e-3)


def test_iuv_labels_and_uv(staged):
    ref, result = staged.ref, staged.out["result"]
    for i, (labels, uv) in enumerate(zip(result.labels, result.uv)):
        ref_labels = ref[f"iuv{i}_labels_u8"]
        ref_uv = ref[f"iuv{i}_uv_f32" if i < 3 else f"iuv{i}_uv_f16"].astype(np.float32)
        assert labels.dtype == np.uint8 and uv.dtype == np.float32
        assert labels.shape == ref_labels.shape and uv.shape == ref_uv.shape
        same = labels == ref_labels
        assert same.mean() >= 0.999, i
        assert np.abs(uv - ref_uv)[:, same].max() <= 1e-3, i
        quantized = np.clip(uv * 255, 0, 255).astype(np.uint8)  # quantize_densepose_chart_result
        diff = np.abs(quantized.astype(int) - ref[f"iuv{i}_quantized_u8"][1:].astype(int))[:, same]
        assert diff.max() <= 1, i
        assert int((labels > 0).sum()) == pytest.approx(staged.meta["iuv"][i]["n_fg"], abs=0.001 * labels.size)
