"""A package whose entry point runs as `python -m trainer.main`."""
