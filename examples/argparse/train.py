"""Object detection training entrypoint (argparse).

The platform runs this as: python train.py --epochs 50 --batch_size 16 ...
--pretrained False (every option spelled --<name> and given a value, so
multi-word options also accept the underscore spelling and bools take
True/False; see docs/platform-command.md), and provides JOB_ID,
BACKEND_BASE_URL, CALLBACK_TOKEN, DATASET_ID in the environment.
"""

import argparse
import os

DEFAULT_IMGSZ = 640
OPTIMIZERS = ["sgd", "adam", "adamw"]


def str2bool(value: str) -> bool:
    """``True``/``False`` (and yes/no, 1/0) as the platform writes a bool."""
    if value.lower() in ("1", "true", "yes", "y", "on", "t"):
        return True
    if value.lower() in ("0", "false", "no", "n", "off", "f"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Train a YOLO-style detector")
    parser.add_argument("--epochs", type=int, default=50, help="number of training epochs")
    parser.add_argument(
        "--batch-size", "--batch_size", type=int, default=16, help="images per batch"
    )
    parser.add_argument(
        "--learning-rate", "--learning_rate", "--lr", type=float, default=1e-3, help="initial LR"
    )
    parser.add_argument("--imgsz", type=int, default=DEFAULT_IMGSZ, help="input image size")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adamw")
    parser.add_argument("--device", default=os.environ.get("DEVICE", "cuda:0"))
    # nargs="?" + const=True: a bare --pretrained still means True.
    parser.add_argument(
        "--pretrained",
        type=str2bool,
        nargs="?",
        const=True,
        default=False,
        help="start from pretrained weights",
    )
    aug = parser.add_argument_group("augmentation")
    aug.add_argument("--mosaic", type=float, default=1.0, help="mosaic probability")
    aug.add_argument(
        "--flip", type=str2bool, nargs="?", const=True, default=True, help="random flips"
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    job = os.environ.get("JOB_ID", "local")
    print(f"[{job}] training for {args.epochs} epochs at lr={args.learning_rate}")


if __name__ == "__main__":
    main()
