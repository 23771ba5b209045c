"""Turns a Graph into running PyTorch: codegen, trainer, data, exporters, the command line.

Imports graph/, never Qt or app/ (checked by import-linter).
"""
