"""MediaPipe's pose landmark model run on a given region of an image, with no detector in front of it.

BlazePose's detector needs a face; a person in profile, from behind or small in a crowd often gives it
none. The landmark model itself was trained on person-centred crops, whatever the person's pose and
facing, and it says whether a person is there (its presence score). :class:`RegionLandmarker` runs
MediaPipe's own ``PoseLandmarkByRoiCpu`` graph (shipped in the ``mediapipe==0.10.14`` wheel, with the
same GHUM full model as the people finder) on a region given from outside, here a HOG seed: it returns
the 33 landmarks and a mask when the model sees a person there, and nothing otherwise.
"""

from __future__ import annotations

import os

import numpy as np

from human3d.people.models import import_mediapipe, model_file, quiet_stderr

GRAPH = """
input_stream: "image"
input_stream: "roi"
output_stream: "landmarks"
output_stream: "mask"
node {
  calculator: "PoseLandmarkByRoiCpu"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  output_stream: "LANDMARKS:landmarks"
  output_stream: "SEGMENTATION_MASK:mask"
}
"""
FULL_MODEL = 1  # MediaPipe's model complexity of pose_landmark_full.tflite


class RegionLandmarker:
    """Pose landmarks and mask of the person in a square region; build once, call :meth:`find` many times."""

    def __init__(self) -> None:
        mediapipe = import_mediapipe()
        model_file("mediapipe_pose_landmarker_full")  # a one-line error if the wheel lacks it
        from google.protobuf import text_format
        from mediapipe.framework import calculator_pb2
        from mediapipe.framework.formats import rect_pb2

        # the graph finds its model files relative to the folder that holds the mediapipe package
        mediapipe.resource_util.set_resource_dir(os.path.dirname(os.path.dirname(mediapipe.__file__)))
        config = text_format.Parse(GRAPH, calculator_pb2.CalculatorGraphConfig())
        self.mediapipe, self.rect_type = mediapipe, rect_pb2.NormalizedRect
        self.graph = mediapipe.CalculatorGraph(graph_config=config)
        self.outputs: dict[str, object] = {}
        self.graph.observe_output_stream(
            "landmarks", lambda stream, packet: self.outputs.__setitem__(
                "landmarks", mediapipe.packet_getter.get_proto(packet)))
        self.graph.observe_output_stream(
            "mask", lambda stream, packet: self.outputs.__setitem__(
                "mask", np.array(mediapipe.packet_getter.get_image(packet).numpy_view())))
        with quiet_stderr():
            self.graph.start_run(input_side_packets={
                "model_complexity": mediapipe.packet_creator.create_int(FULL_MODEL),
                "enable_segmentation": mediapipe.packet_creator.create_bool(True)})
        self.timestamp = 0

    def close(self) -> None:
        """Stop the graph (the landmarker cannot be used afterwards)."""
        self.graph.close()

    def find(self, image: np.ndarray, centre: tuple[float, float], side: float) -> tuple[np.ndarray, np.ndarray] | None:
        """The person in the upright square of ``side`` pixels around ``centre`` of ``image`` (RGB uint8):
        landmarks [33, 5] (x, y, z in pixels, visibility, presence) and a mask probability [H, W]; None
        when the model sees no person there."""
        height, width = image.shape[:2]
        region = self.rect_type(x_center=centre[0] / width, y_center=centre[1] / height,
                                width=side / width, height=side / height, rotation=0.0)
        self.timestamp += 1
        self.outputs.clear()
        packets = self.mediapipe.packet_creator
        frame = packets.create_image_frame(image_format=self.mediapipe.ImageFormat.SRGB,
                                           data=np.ascontiguousarray(image[..., :3]))
        self.graph.add_packet_to_input_stream("image", frame.at(self.timestamp))
        self.graph.add_packet_to_input_stream("roi", packets.create_proto(region).at(self.timestamp))
        self.graph.wait_until_idle()
        found, mask = self.outputs.get("landmarks"), self.outputs.get("mask")
        if found is None or mask is None:
            return None
        landmarks = np.array([[p.x * width, p.y * height, p.z * width, p.visibility, p.presence]
                              for p in found.landmark], dtype=np.float32)
        return landmarks, mask
