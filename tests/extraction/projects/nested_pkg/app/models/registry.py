MODEL_NAMES = ["small", "base", "large"]
DEFAULT = "base"
