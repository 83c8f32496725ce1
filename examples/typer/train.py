"""Segmentation training entrypoint (typer)."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Backbone(str, Enum):
    unet = "unet"
    deeplabv3 = "deeplabv3"
    segformer = "segformer"


app = typer.Typer()


@app.command()
def train(
    epochs: Annotated[int, typer.Option(help="number of epochs")] = 100,
    batch_size: Annotated[
        int, typer.Option("--batch-size", "--batch_size", help="images per batch")
    ] = 8,
    learning_rate: Annotated[
        float, typer.Option("--learning-rate", "--learning_rate", help="initial learning rate")
    ] = 3e-4,
    backbone: Annotated[Backbone, typer.Option(help="network architecture")] = Backbone.unet,
    imgsz: int = 512,
    output_dir: Annotated[Path, typer.Option("--output-dir", "--output_dir")] = Path(
        "/workspace/output"
    ),
    resume: Annotated[str | None, typer.Option(help="checkpoint to resume from")] = None,
    # typer makes a bool parameter a flag, but the platform writes --ema True:
    # a str, read as a bool here.
    ema: str = "True",
) -> None:
    """Train a semantic segmentation model."""
    use_ema = ema.lower() in ("1", "true", "yes", "y", "on", "t")
    typer.echo(f"training {backbone.value} for {epochs} epochs (ema: {use_ema})")


if __name__ == "__main__":
    app()
