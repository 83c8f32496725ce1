import argparse

from arguments import add_training_args

parser = argparse.ArgumentParser()
add_training_args(parser)
args = parser.parse_args()
