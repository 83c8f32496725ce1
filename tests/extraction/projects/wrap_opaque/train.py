"""A parser handed to code that cannot be followed and assigned back (issue 17 item 3)."""

import argparse

from options import wrap_arg_parser

parser = argparse.ArgumentParser()
parser.add_argument("--vae_path", type=str, help="path to your trained discrete VAE")
parser = wrap_arg_parser(parser)
train_group = parser.add_argument_group("Training settings")
train_group.add_argument("--epochs", default=20, type=int, help="Number of epochs")
train_group.add_argument("--batch_size", default=4, type=int)
args = parser.parse_args()
