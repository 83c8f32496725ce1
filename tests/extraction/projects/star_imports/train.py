import argparse

from config import *

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=LR)
parser.add_argument("--batch", type=int, default=BATCH)
parser.add_argument("--model", choices=MODELS, default=MODELS[0])
parser.add_argument("--data-root", default=DATA_ROOT)
parser.parse_args()
