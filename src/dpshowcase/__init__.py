"""dpshowcase: publish sensitive case records safely.

Differentially private and k-anonymous counts of attribute combinations, synthetic
microdata that agrees with them, an evaluation report and a local web app.
"""

from __future__ import annotations

from dpshowcase._version import __version__

__all__ = ["__version__"]
