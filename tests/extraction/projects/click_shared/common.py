import click

BATCH_SIZES = [16, 32, 64]


def common_options(f):
    f = click.option("--seed", type=int, default=42, help="random seed")(f)
    f = click.option("--batch-size", type=click.Choice([str(b) for b in BATCH_SIZES]), default="32")(f)
    return f
