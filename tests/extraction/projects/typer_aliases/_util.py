import typer

app = typer.Typer(add_completion=False)
Arg = typer.Argument
Opt = typer.Option

DEFAULT_STEPS = 500
