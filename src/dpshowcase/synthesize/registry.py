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
    "Choose AIM when the higher-order structure matters most: on ACS national2019 "
    "(10 demographic columns with the categories of the public data dictionary, ε = 1) "
    "it kept the 2-way marginals best (NIST k-marginal 978 to 981 over four seeds, median "
    "980, with a workload of all pairs, against 960 for MST; published AIM 976) while "
    "about 25% of the distinct 1–3-way combinations of its records were absent from the "
    "real data and about 10% of the real ones were missing, but it ran "
    "several times longer than the aggregate-seeded synthesizer. "
    "Choose the aggregate-seeded synthesizer when DP counts of every combination up to R "
    "must be published beside the records, when columns hold several values, or when the "
    "release must take about a minute (MST is as fast but models only pairs)."
)
"""When to choose which synthesizer, from the measurements in benchmarks/bench_aim.py."""


def check_synthesizer(name: str) -> str:
    """Return ``name`` if it names a DP synthesizer, else raise ParameterError."""
    if name not in DP_SYNTHESIZERS:
        raise ParameterError(
            f"The synthesizer {name!r} is unknown; use one of {', '.join(DP_SYNTHESIZERS)}."
        )
    return name
