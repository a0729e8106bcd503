"""dspx: a typed, checked, optimizable language for LLM programs.

Importing this package is cheap: it pulls in neither the compiler nor the
runtime.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
