"""The open body model (anny) and DensePose's 24 body parts and their U,V charts on it."""
