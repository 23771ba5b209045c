"""The Qt face of LayerLoom: a thin view over graph/, running engine/ in a QThread."""
from app import qtpy_config

qtpy_config.install()  # before any module here imports NodeGraphQt (and with it Qt.py)
