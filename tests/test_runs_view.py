"""ui/runs_view.py: the Runs page's state as its link carries it."""

from ui.runs_view import Filters, Grouping, State, link


def test_the_default_state_leaves_the_link_empty():
    assert not any(link(State(grouping=Grouping(by=("width",), default=("width",)))).values())


def test_a_state_is_written_as_the_page_reads_it_back():
    state = State(
        filters=Filters(("permuted",), ("done",), "mlp", ("week 3", "hw")),
        ranges={"width": (8, 16), "lr": (0.001, 0.0031)},
        grouping=Grouping(on=True, by=("model",), default=("model", "width")),
        selected=("00000000000000a1",),
        view="x against y",
    )
    assert link(state) == {
        "exp": ["permuted"],
        "status": ["done"],
        "q": "mlp",
        "tag": ["week 3", "hw"],
        "group": None,
        "by": ["model"],
        "range": ["width:8:16", "lr:0.001:0.0031"],
        "runs": ["00000000000000a1"],
        "view": "x-against-y",
    }
    off = link(State(grouping=Grouping(on=False, by=("model",), default=("width",))))
    assert off["group"] == "off" and off["by"] is None  # no grouping: no columns to keep
