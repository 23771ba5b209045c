"""The importer (DESIGN §4 `import`): an existing PyTorch model becomes an editable design with its
weights. source.py finds and builds the module, trace.py traces it with torch.fx, modules.py and
functions.py map what the trace calls to registry types, build.py makes the flat design, grouping.py
makes blocks of repeated classes, and run.py puts it together and checks the outputs."""
from engine.importer.problems import ImportFailure, Problem  # noqa: F401
from engine.importer.run import ImportResult, import_model  # noqa: F401
