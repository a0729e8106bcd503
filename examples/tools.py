"""Tools the example programs call (`tool add(...) = "tools:add"` in count.dspx).

A tool target is "module:function"; the module is looked up next to the .dspx
file that declares the tool first, then on the normal Python path.
"""


def add(numbers: list[float]) -> float:
    """Sum a list of numbers."""
    return float(sum(numbers))
