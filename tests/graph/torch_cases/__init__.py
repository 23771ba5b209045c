"""The hypothesis strategy of every layer type for tests/graph/test_layers_vs_torch.py, one module per
category. `CASES[name]` draws parameter settings and input shapes; `POLICY[name](values, shapes)` is True
where LayerLoom refuses on purpose something torch would run. Importing the package fills both."""
from tests.graph.torch_cases import core, sequence, spatial  # noqa: F401  (each registers its cases)
from tests.graph.torch_cases.base import BATCH, CASES, POLICY, Case, is_batch, shape, torch_dim

__all__ = ["BATCH", "CASES", "POLICY", "Case", "is_batch", "shape", "torch_dim"]
