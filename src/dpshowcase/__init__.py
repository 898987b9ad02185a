"""dpshowcase: publish sensitive case records safely.

Differentially private and k-anonymous counts of attribute combinations, synthetic
microdata that agrees with them, an evaluation report and a local web app.

The public API is what this module exports (``__all__``); the README's "Python API"
section shows it at work, and a test runs those examples. Everything else lives in
modules that may change. The exports are loaded on first use (PEP 562), so that
``import dpshowcase`` and ``dpshowcase --help`` do not load numba, polars and OpenDP.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dpshowcase._version import __version__
from dpshowcase.errors import (
    DpShowcaseError,
    GuaranteeError,
    InputError,
    InternalError,
    ParameterError,
    SchemaError,
    UserError,
)

if TYPE_CHECKING:
    from dpshowcase.aggregate.count import CombinationCounts, count_combinations
    from dpshowcase.aggregate.protected import ProtectedAggregates
    from dpshowcase.data.encode import SensitiveData
    from dpshowcase.data.load import read_table
    from dpshowcase.data.prepare import prepare
    from dpshowcase.evaluate.comparability import compare_selection
    from dpshowcase.evaluate.evaluation import evaluate_release
    from dpshowcase.evaluate.release_files import PublicRelease, load_release
    from dpshowcase.evaluate.report import write_report
    from dpshowcase.kanon.baseline import k_anonymize
    from dpshowcase.kanon.release import k_anonymous_release
    from dpshowcase.privacy.marginals import DPMarginals
    from dpshowcase.schema.model import Schema
    from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer

_LAZY: dict[str, str] = {
    # data and schema
    "Schema": "dpshowcase.schema.model",
    "SensitiveData": "dpshowcase.data.encode",
    "prepare": "dpshowcase.data.prepare",
    "read_table": "dpshowcase.data.load",
    # counting and protection
    "CombinationCounts": "dpshowcase.aggregate.count",
    "count_combinations": "dpshowcase.aggregate.count",
    "ProtectedAggregates": "dpshowcase.aggregate.protected",
    "DPMarginals": "dpshowcase.privacy.marginals",
    "k_anonymous_release": "dpshowcase.kanon.release",
    "k_anonymize": "dpshowcase.kanon.baseline",
    # synthesis
    "AggregateSeededSynthesizer": "dpshowcase.synthesize.aggregate_seeded",
    # evaluation of a written release
    "PublicRelease": "dpshowcase.evaluate.release_files",
    "load_release": "dpshowcase.evaluate.release_files",
    "evaluate_release": "dpshowcase.evaluate.evaluation",
    "write_report": "dpshowcase.evaluate.report",
    "compare_selection": "dpshowcase.evaluate.comparability",
}
"""Public name -> the module that defines it, imported when the name is first used."""

__all__ = [
    "AggregateSeededSynthesizer",
    "CombinationCounts",
    "DPMarginals",
    "DpShowcaseError",
    "GuaranteeError",
    "InputError",
    "InternalError",
    "ParameterError",
    "ProtectedAggregates",
    "PublicRelease",
    "Schema",
    "SchemaError",
    "SensitiveData",
    "UserError",
    "__version__",
    "compare_selection",
    "count_combinations",
    "evaluate_release",
    "k_anonymize",
    "k_anonymous_release",
    "load_release",
    "prepare",
    "read_table",
    "write_report",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dpshowcase' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
