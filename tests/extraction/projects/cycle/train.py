import argparse

import a
import b

parser = argparse.ArgumentParser()
b.build(parser)
parser.add_argument("--base", type=int, default=a.BASE)
parser.parse_args()
