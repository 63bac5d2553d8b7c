"""People in real photos and videos: boxes, 33 body landmarks, COCO-17 keypoints, masks and face boxes.

:class:`~human3d.people.finder.PeopleFinder` runs MediaPipe's BlazePose GHUM models (trained on real
photos, Apache-2.0, shipped inside the ``mediapipe==0.10.14`` wheel) on the whole image and on
overlapping zoomed tiles, so that people down to about an eighth of the image height are found too.
:mod:`human3d.people.landmarks` converts the 33 landmarks to COCO-17 and OpenPose BODY_25;
:mod:`human3d.people.tracking` keeps ids across video frames.
"""
