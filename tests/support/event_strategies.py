"""Hypothesis strategies for events, shared by the EventLog contract suites."""

from __future__ import annotations

from hypothesis import strategies as st

from runstream.domain.model import AgentType, Category, NewEvent, Source

sources = st.none() | st.builds(
    Source,
    st.text(min_size=1, max_size=12),
    st.sampled_from(AgentType),
    st.text(max_size=12),
    st.text(max_size=12),
)
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
datas = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
plain_events = st.builds(
    NewEvent.build,
    st.sampled_from([Category.LLM, Category.DISPATCH, Category.SYSTEM]),
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    datas,
    sources,
)
terminal_events = st.builds(
    NewEvent.build,
    st.just(Category.LIFECYCLE),
    st.sampled_from(["completed", "failed", "cancelled"]),
    datas,
)
