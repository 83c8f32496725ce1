import click

from common import common_options


@click.command()
@click.option("--lr", type=float, default=0.1)
@common_options
def main(lr, seed, batch_size):
    pass


if __name__ == "__main__":
    main()
