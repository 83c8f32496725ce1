from .hparams import *
from .paths import *
