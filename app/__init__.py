"""The Qt face of LayerLoom: a thin view over graph/, running engine/ in a QThread."""
