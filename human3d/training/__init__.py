"""Shared training machinery: process group set-up (torchrun + DDP), sharded batches, the step loop."""
