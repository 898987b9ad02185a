"""The DP synthesizers by name, for ``dpshowcase release --synthesizer NAME``.

* ``aggregate-seeded`` (default): DP counts of every combination up to length R, then
  records fitted to them (:mod:`.aggregate_seeded`).
* ``aim``: marginals selected and measured adaptively, a graphical model estimated
  from them (private-pgm), records sampled from it (:mod:`dpshowcase.privacy.aim`).
* ``mst``: the 1-way marginals and a maximum spanning tree of 2-way marginals, then the
  same graphical model.

Which to choose — measured in ``benchmarks/bench_aim.py`` and stated in every report and
datasheet by :data:`CHOOSING`.
"""

from __future__ import annotations

from dpshowcase.errors import ParameterError

__all__ = ["CHOOSING", "DP_SYNTHESIZERS", "MODEL_SYNTHESIZERS", "check_synthesizer"]

DP_SYNTHESIZERS: dict[str, str] = {
    "aggregate-seeded": "DP counts of all combinations up to length R, records fitted to them",
    "aim": "AIM: adaptively selected marginals, a private-pgm graphical model, sampled records",
    "mst": "MST: 1-way marginals and a spanning tree of 2-way marginals, private-pgm model",
}
"""Every DP synthesizer by name, with one line on what it does."""

MODEL_SYNTHESIZERS = ("aim", "mst")
"""The synthesizers that sample from a graphical model (optional extra ``[aim]``)."""

CHOOSING = (
    "Choose the aggregate-seeded synthesizer when fabricated combinations must be rare: "
    "its records only hold combinations whose DP counts were released, and it publishes "
    "every combination count up to length R. Choose AIM (or the faster MST) when the "
    "joint distribution matters more: its graphical model keeps the 2- and 3-way "
    "structure closer to the data (a higher NIST k-marginal score at the same ε), but "
    "it samples combinations that no record holds."
)
"""When to choose which synthesizer, from the measurements in benchmarks/bench_aim.py."""


def check_synthesizer(name: str) -> str:
    """Return ``name`` if it names a DP synthesizer, else raise ParameterError."""
    if name not in DP_SYNTHESIZERS:
        raise ParameterError(
            f"The synthesizer {name!r} is unknown; use one of {', '.join(DP_SYNTHESIZERS)}."
        )
    return name
