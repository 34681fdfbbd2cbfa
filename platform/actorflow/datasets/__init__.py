"""Data sets for the book's programs: `actorflow.datasets.mnist` (TF 1.x `input_data`)."""
from . import mnist

__all__ = ["mnist"]
