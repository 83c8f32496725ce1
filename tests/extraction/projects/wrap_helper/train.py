import argparse

from options import wrap_arg_parser

parser = argparse.ArgumentParser()
parser = wrap_arg_parser(parser)
train_group = parser.add_argument_group("Training settings")
train_group.add_argument("--epochs", default=20, type=int, help="Number of epochs")
train_group.add_argument("--batch_size", default=4, type=int)
args = parser.parse_args()
