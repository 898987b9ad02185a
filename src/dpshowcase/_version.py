"""The package version, in a module of its own so that any layer can read it.

``dpshowcase/__init__.py`` re-exports it; modules inside the package import it from here,
never from ``dpshowcase`` itself (the package's ``__init__`` sits above every layer).
"""

from __future__ import annotations

__version__ = "0.1.0"
