import argparse

import app.models.registry as reg
from app import models


def build():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=models.NAMES, default=reg.DEFAULT)
    return p
