__all__ = ["LR", "BATCH", "MODELS"]

LR = 0.01
BATCH = 32
MODELS = ["resnet18", "resnet50"]
HIDDEN = 999  # not exported: __all__ leaves it out
