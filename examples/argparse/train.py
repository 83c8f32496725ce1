"""Object detection training entrypoint (argparse).

The platform runs this as: python train.py --epochs 50 --batch_size 16 ...
(every option spelled --<name>, so multi-word options also accept the
underscore spelling, and flags are on/off pairs), and provides JOB_ID,
BACKEND_BASE_URL, CALLBACK_TOKEN, DATASET_ID in the environment.
"""

import argparse
import os

DEFAULT_IMGSZ = 640
OPTIMIZERS = ["sgd", "adam", "adamw"]


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
    parser.add_argument("--pretrained", action="store_true", help="start from pretrained weights")
    aug = parser.add_argument_group("augmentation")
    aug.add_argument("--mosaic", type=float, default=1.0, help="mosaic probability")
    aug.add_argument(
        "--flip", action=argparse.BooleanOptionalAction, default=True, help="random flips"
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    job = os.environ.get("JOB_ID", "local")
    print(f"[{job}] training for {args.epochs} epochs at lr={args.learning_rate}")


if __name__ == "__main__":
    main()
