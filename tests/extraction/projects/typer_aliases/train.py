from _util import DEFAULT_STEPS, Opt, app


@app.command()
def train(
    learning_rate: float = Opt(1e-3, help="optimizer step size"),
    steps: int = Opt(DEFAULT_STEPS, "--steps", "-s"),
    amp: bool = Opt(False, help="mixed precision"),
):
    pass


if __name__ == "__main__":
    app()
