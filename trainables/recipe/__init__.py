"""One trial's recipe, read top to bottom: setup (seeds, schedule, loaders, DeepSpeed engine), the
training loop, checkpoints."""
