"""graph/footprint.py: one formula for memory per node, the totals and the largest batch that fits."""
from graph.analysis import analyse
from graph.footprint import ADAM_STATES, footprint, node_memory
from graph.project import load
from tests.conftest import EXAMPLES


def test_block_activations_count_every_layer_inside_times_its_repeat():
    project = load(EXAMPLES / "tiny_gpt.loom")
    analysis = analyse(project.graph)
    blocks = analysis.nodes["blocks"]
    inner = sum(node_memory(i).activations for n, i in blocks.inner.analysis.nodes.items()
                if blocks.inner.graph[n].type not in ("Input", "Output"))
    assert blocks.inner.repeat == 2 and node_memory(blocks).activations == 2 * inner > 0
    assert node_memory(blocks).weights == blocks.params * 4
    assert node_memory(blocks).optimiser == ADAM_STATES * node_memory(blocks).weights


def test_the_largest_batch_is_the_last_that_fits():
    total = footprint(analyse(load(EXAMPLES / "lenet5.loom").graph))
    assert total.weights == 61_706 * 4
    available = 50 << 20
    for training in (True, False):
        batch = total.largest_batch(available, training)
        assert total.total(batch, training) <= available < total.total(batch + 1, training)
    assert total.largest_batch(total.weights, training=True) == 0
