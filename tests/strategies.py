"""Hypothesis strategies shared by the property tests: arbitrary JSON as a vendor might send it."""
from hypothesis import strategies as st


def json_values(text: int = 20, keys: int = 8, width: int = 3, leaves: int = 10, allow_nan: bool = False):
    """Any JSON value (scalars, lists, objects) of bounded size."""
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=allow_nan) | st.text(max_size=text),
        lambda inner: st.lists(inner, max_size=width) | st.dictionaries(st.text(max_size=keys), inner, max_size=width),
        max_leaves=leaves,
    )
