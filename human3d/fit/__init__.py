"""Fitting the open body model (anny) to people in photos: shape, pose, placement and camera."""
