"""Which model weights human3d knows (:mod:`.registry`) and which file a command loads (:mod:`.resolve`).

Neither module imports torch.
"""
