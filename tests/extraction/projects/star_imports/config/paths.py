import os as _os

DATA_ROOT = "/data"
_PRIVATE = "nope"
