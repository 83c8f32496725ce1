"""keynet-train: ship training code to the KeyNet training platform."""

__version__ = "0.1.0"
