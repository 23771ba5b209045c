"""Small PyTorch models written as a user would, for the importer's tests and bench/import_speed.py."""
