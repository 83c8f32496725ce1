"""Helpers shared by the training scripts of this fixture project."""

import argparse

DEFAULT_LR = 3e-4


def bool_flag(s):
    """Parse a boolean command-line value."""
    if s.lower() in {"off", "false", "0"}:
        return False
    elif s.lower() in {"on", "true", "1"}:
        return True
    else:
        raise argparse.ArgumentTypeError("invalid value for a boolean flag")


def get_args_parser():
    parser = argparse.ArgumentParser("DINO-like", add_help=False)
    parser.add_argument("--arch", default="vit_small", type=str, choices=["vit_tiny", "vit_small"],
                        help="Name of architecture to train.")
    parser.add_argument("--patch_size", default=16, type=int, help="Size in pixels of input square patches.")
    parser.add_argument("--norm_last_layer", default=True, type=bool_flag,
                        help="Whether or not to weight normalize the last layer.")
    parser.add_argument("--lr", default=DEFAULT_LR, type=float, help="Peak learning rate.")
    return parser
