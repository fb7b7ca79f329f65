"""wommsim: an agent-based simulation of social purchase decisions.

Consumers on a social network decide to buy from what their peers say and do versus the
advertising they see; brands compare strategies at equal budget. See ``docs/ODD.md``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wommsim")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
