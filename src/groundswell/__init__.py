"""Groundswell: the working system of the social organization."""

__version__ = "0.1.0"
