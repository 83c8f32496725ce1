"""Segmentation training entrypoint (typer)."""

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Backbone(str, Enum):
    unet = "unet"
    deeplabv3 = "deeplabv3"
    segformer = "segformer"


app = typer.Typer()


@app.command()
def train(
    epochs: Annotated[int, typer.Option(help="number of epochs")] = 100,
    batch_size: Annotated[int, typer.Option(help="images per batch")] = 8,
    learning_rate: Annotated[float, typer.Option(help="initial learning rate")] = 3e-4,
    backbone: Annotated[Backbone, typer.Option(help="network architecture")] = Backbone.unet,
    imgsz: int = 512,
    output_dir: Path = Path("/workspace/output"),
    resume: Annotated[Optional[str], typer.Option(help="checkpoint to resume from")] = None,
    ema: bool = True,
) -> None:
    """Train a semantic segmentation model."""
    typer.echo(f"training {backbone.value} for {epochs} epochs")


if __name__ == "__main__":
    app()
