"""tradekit: paper and live algorithmic trading that never forgets a position.

Public API for plugin authors: ``hookimpl`` and the model types.
"""

from tradekit.plugins.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
