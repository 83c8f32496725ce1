import argparse

from .consts import DEFAULT_SEED, OPTIMIZERS


def default_argument_parser(epilog=None):
    parser = argparse.ArgumentParser(epilog=epilog)
    parser.add_argument("--config-file", default="", metavar="FILE", help="path to config file")
    parser.add_argument("--resume", action="store_true", help="resume from the last checkpoint")
    parser.add_argument("--num-gpus", type=int, default=1, help="number of gpus *per machine*")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=OPTIMIZERS[-1])
    return parser
