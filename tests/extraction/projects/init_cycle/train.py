import argparse

import pkg
from pkg import b

parser = argparse.ArgumentParser()
parser.add_argument("--eps", type=float, default=pkg.b.EPS)
parser.add_argument("--momentum", type=float, default=b.MOMENTUM)
parser.add_argument("--default_eps", type=float, default=pkg.DEFAULT_EPS)
args = parser.parse_args()
