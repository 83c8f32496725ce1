import argparse

import mylib
from mylib import add_model_args


def main():
    parser = argparse.ArgumentParser()
    add_model_args(parser)
    mylib.add_data_args(parser)
    parser.add_argument("--epochs", type=int, default=10)
    return parser.parse_args()


if __name__ == "__main__":
    main()
