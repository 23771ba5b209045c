"""The pure-Python truth of a LayerLoom design: registry, graph, inference, project files.

Imports neither Qt nor torch nor app/ nor engine/ (checked by import-linter).
"""
from graph.analysis import Analysis, Diagnostic, NodeInfo, analyse
from graph.model import CycleError, Edge, EditError, Graph, GraphEvent, Node
from graph.registry import Inferred, LayerType, ShapeError, all_types, get

__all__ = [
    "Analysis", "CycleError", "Diagnostic", "Edge", "EditError", "Graph", "GraphEvent", "Inferred",
    "LayerType", "Node", "NodeInfo", "ShapeError", "all_types", "analyse", "get",
]
