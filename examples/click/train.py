"""Image classification fine-tuning entrypoint (click)."""

import click

MODELS = ("resnet18", "resnet50", "efficientnet_b0")


@click.command()
@click.option("--epochs", default=30, show_default=True, help="number of epochs")
@click.option("--batch-size", "--batch_size", type=click.INT, default=64, help="images per batch")
@click.option(
    "--learning-rate", "--learning_rate", type=float, default=0.01, help="initial learning rate"
)
@click.option("--model", type=click.Choice(MODELS), default="resnet50", help="backbone")
@click.option(
    "--label-smoothing", "--label_smoothing", type=click.FloatRange(0.0, 1.0), default=0.1
)
# type=bool, not a flag: the platform writes --amp True / --amp False.
@click.option("--amp", type=bool, default=True, help="mixed precision")
@click.option(
    "--freeze-backbone", "--freeze_backbone", type=bool, default=False, help="train the head only"
)
@click.option(
    "--dataset-id", "--dataset_id", envvar="DATASET_ID", required=True, help="platform dataset id"
)
def train(
    epochs, batch_size, learning_rate, model, label_smoothing, amp, freeze_backbone, dataset_id
):
    """Fine-tune a classifier on a KeyNet dataset."""
    click.echo(f"training {model} on {dataset_id} for {epochs} epochs")


if __name__ == "__main__":
    train()
