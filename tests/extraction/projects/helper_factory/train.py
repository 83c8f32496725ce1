import argparse

import utils
from utils import get_args_parser

if __name__ == "__main__":
    parser = argparse.ArgumentParser("train", parents=[get_args_parser()])
    parser.add_argument("--use_fp16", type=utils.bool_flag, default=False, help="Mixed precision.")
    parser.add_argument("--seed", default=0, type=int)
    args = parser.parse_args()
