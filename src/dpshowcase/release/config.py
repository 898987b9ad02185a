"""The settings of a release, from a TOML file and command-line flags.

Example ``release.toml`` (paths are relative to the file's own folder)::

    data = "cases.csv"
    schema = "schema.toml"
    output = "release-2025"
    epsilon = 4
    delta = 1e-6                    # optional: default 1/(n·ln n)
    reporting_length = 3
    null_values = ["N"]             # optional
    fabrication_weight = 3          # optional (default: 3 to 4, from the data):
                                    # lower is more accurate, higher fabricates less
    row_share = 1.25                # optional: synthetic rows per protected record (up
                                    # to 2.5; more rows fabricate less, but are not cases)
    # allow_large_epsilon = true    # only to accept epsilon above 20 (stated in the bundle)
    # allow_large_delta = true      # only to accept delta above 1/n (stated in the bundle)
    # seed = 1                      # tests and demos only: the output is NOT for release
    lineage = "ctdc-cases"          # optional: record the release in the privacy ledger
    ledger = "ledger.sqlite3"       # optional: default ledger.sqlite3 in the user data folder
    id_column = "case_id"           # optional: ids withdrawals are matched in (default:
                                    # the schema's subject_id)

    [dp]                            # optional, advanced (see DpParameters)
    number_of_records_epsilon_proportion = 0.02   # default: epsilon_N = 0.1·min(1, epsilon)
    percentile_percentage = 99
    percentile_epsilon_proportion = 0.1
    sigma_proportions = "even"      # or "favor-long", or one number per length
    thresholds = "adaptive"         # or one fixed value per length 2..R
    adaptive_factors = [0.55, 1.0]
    record_count_public = 12345     # only if the number of records is public knowledge
    edges_epsilon_proportion = 0.05 # choose data-derived bin edges with DP (--dp-edges)

Flags given on the command line override the file. Types and ranges are checked in one
place, :class:`ReleaseConfig` (with the checks of
:class:`~dpshowcase.privacy.accounting.DpParameters` and
:class:`~dpshowcase.release.pipeline.ReleaseJob` it calls), whether the values come from
flags or a file: a bad value in a file gets the command line's sentence, after the name
of the file. An unknown key is an error, so a typo never silently falls back to a
default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dpshowcase.aggregate.count import check_reporting_length
from dpshowcase.errors import ParameterError
from dpshowcase.ledger.store import check_lineage_name
from dpshowcase.privacy.accounting import DpParameters, check_delta, check_epsilon
from dpshowcase.privacy.noise import check_seed
from dpshowcase.release.bundle import check_output
from dpshowcase.schema.toml_io import load_schema
from dpshowcase.synthesize.aggregate_seeded import (
    DEFAULT_ROW_SHARE,
    check_fabrication_weight,
    check_row_share,
)

if TYPE_CHECKING:
    from dpshowcase.schema.model import Schema

__all__ = [
    "DEFAULT_REPORTING_LENGTH",
    "DP_KEYS",
    "ReleaseConfig",
    "advanced_dp",
    "config_from_dict",
    "load_config",
]

DEFAULT_REPORTING_LENGTH = 3

DP_KEYS = (
    "number_of_records_epsilon_proportion",
    "percentile_percentage",
    "percentile_epsilon_proportion",
    "sigma_proportions",
    "thresholds",
    "adaptive_factors",
    "record_count_public",
    "edges_epsilon_proportion",
)
"""Advanced DpParameters fields accepted in the ``[dp]`` table."""

_PATH_KEYS = ("data", "schema", "output", "ledger")
_TOP_KEYS = (
    *_PATH_KEYS,
    "epsilon",
    "delta",
    "reporting_length",
    "seed",
    "null_values",
    "fabrication_weight",
    "row_share",
    "allow_large_epsilon",
    "allow_large_delta",
    "lineage",
    "id_column",
    "dp",
)
_FLAG_KEYS = ("allow_large_epsilon", "allow_large_delta")


@dataclass(frozen=True, kw_only=True)
class CheckedPaths:
    """The data file and output folder of a release, both given, and its loaded schema."""

    data: Path
    output: Path
    schema: Schema | None


@dataclass(frozen=True, kw_only=True)
class ReleaseConfig:
    """What a release is made from and with; None means "not given"."""

    data: Path | None = None
    """The sensitive data file."""
    schema: Path | None = None
    """The schema TOML file (None: every column categorical)."""
    output: Path | None = None
    """The bundle folder to write."""
    epsilon: float | None = None
    """Total ε of the release."""
    delta: float | None = None
    """δ of the release (None: 1/(n·ln n) from the protected record count)."""
    reporting_length: int | None = None
    """R, the longest released combination (None: 3)."""
    seed: int | None = None
    """Seed of the noise: reproducible output that is NOT for release."""
    null_values: tuple[str, ...] = ()
    """Extra cell values meaning "no value"."""
    fabrication_weight: float | None = None
    """Synthesis: how strongly to avoid combinations that were not released (None: the
    default, 3)."""
    row_share: float | None = None
    """Synthesis: synthetic records per protected record (None: the default, 1.25)."""
    allow_large_epsilon: bool | None = None
    """Accept ε above 20 (None: no; the release states it when used)."""
    allow_large_delta: bool | None = None
    """Accept δ above 1/n (None: no; the release states it when used)."""
    dp: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Advanced DpParameters fields (keys in :data:`DP_KEYS`)."""
    lineage: str | None = None
    """The lineage the release belongs to (see :mod:`dpshowcase.ledger`)."""
    ledger: Path | None = None
    """The ledger file (None: ledger.sqlite3 in the user's data folder)."""
    id_column: str | None = None
    """The column of ids that withdrawals are matched in (None: the schema's subject id)."""

    def __post_init__(self) -> None:
        """Check every value's type and range: the one place, for flags and files alike.

        What depends on other values (ε above 20 without ``allow_large_epsilon``, R
        against the schema's columns) is checked when the release is built from this.
        """
        for name in _PATH_KEYS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _path(name, value))
        if self.epsilon is not None:
            object.__setattr__(self, "epsilon", check_epsilon(self.epsilon))
        if self.delta is not None:
            object.__setattr__(self, "delta", check_delta(self.delta))
        if self.reporting_length is not None:
            check_reporting_length(self.reporting_length)
        if self.fabrication_weight is not None:
            check_fabrication_weight(self.fabrication_weight)
        if self.row_share is not None:
            check_row_share(self.row_share)
        object.__setattr__(self, "seed", check_seed(self.seed))
        for flag in _FLAG_KEYS:
            if getattr(self, flag) not in (None, True, False):
                raise ParameterError(
                    f"{flag} must be true or false (without quotes), not {getattr(self, flag)!r}."
                )
        if self.lineage is not None:
            object.__setattr__(self, "lineage", check_lineage_name(self.lineage))
        if self.id_column is not None and (
            not isinstance(self.id_column, str) or not self.id_column.strip()
        ):
            raise ParameterError(f"id_column must be a column name, not {self.id_column!r}.")
        if isinstance(self.null_values, str) or not all(
            isinstance(v, str) for v in self.null_values
        ):
            raise ParameterError("The null values must be a list of strings.")
        object.__setattr__(self, "null_values", tuple(self.null_values))
        object.__setattr__(self, "dp", MappingProxyType(_tuples(advanced_dp(self.dp))))

    def override(self, **flags: Any) -> ReleaseConfig:
        """A copy with every flag that was given (not None) replacing the file's value.

        Flags named as a ``[dp]`` key override that key; ``null_values`` are added.
        """
        given = {k: v for k, v in flags.items() if v is not None}
        dp = dict(self.dp)
        for key in DP_KEYS:
            if key in given:
                dp[key] = given.pop(key)
        nulls = tuple(given.pop("null_values", ()))
        unknown = sorted(set(given) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ParameterError(f"Unknown release setting(s) {unknown}.")
        return dataclasses.replace(
            self,
            **given,
            null_values=(*self.null_values, *nulls),
            dp=MappingProxyType(dp),
        )

    def checked_paths(self, *, overwrite: bool) -> CheckedPaths:
        """Check data, output and schema before any data are read."""
        if self.data is None:
            raise ParameterError(
                "No data file was given; name it (dpshowcase release DATA ...) or set data in "
                "the config file."
            )
        if self.output is None:
            raise ParameterError(
                "No output folder was given; pass --output DIR or set output in the config file."
            )
        check_output(self.output, overwrite=overwrite)
        schema = load_schema(self.schema) if self.schema is not None else None
        return CheckedPaths(data=self.data, output=self.output, schema=schema)

    @property
    def synthesis_row_share(self) -> float:
        """The synthetic records per protected record: the share given, else the default."""
        return DEFAULT_ROW_SHARE if self.row_share is None else self.row_share

    def dp_parameters(self) -> DpParameters:
        """The validated DP parameters; ParameterError names the first bad value.

        This is where ε above 20 is refused (unless ``allow_large_epsilon``); δ above 1/n
        is refused as soon as n is known (a declared public count here, else the
        protected count when the release plans its budget).
        """
        if self.epsilon is None:
            raise ParameterError(
                "No privacy budget was given; pass --epsilon (e.g. --epsilon 4) or set "
                "epsilon in the config file."
            )
        return DpParameters(
            epsilon=self.epsilon,
            delta=self.delta,
            reporting_length=(
                DEFAULT_REPORTING_LENGTH if self.reporting_length is None else self.reporting_length
            ),
            allow_large_epsilon=bool(self.allow_large_epsilon),
            allow_large_delta=bool(self.allow_large_delta),
            **self.dp,
        )


def load_config(path: Path) -> ReleaseConfig:
    """Read a release config TOML file; relative paths in it are taken from its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"The config file {path} does not exist.") from None
    except IsADirectoryError:
        raise ParameterError(f"The config file {path} is a folder; give a TOML file.") from None
    except UnicodeDecodeError:
        raise ParameterError(f"The config file {path} is not UTF-8 text.") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"The config file {path} is not valid TOML ({exc}).") from None
    return config_from_dict(raw, base=path.resolve().parent, source=f"the config file {path}")


def config_from_dict(
    raw: dict[str, Any], *, base: Path | None = None, source: str = "the config"
) -> ReleaseConfig:
    """Build a ReleaseConfig from plain data, naming the first thing that is wrong.

    Only the file's shape is checked here (its keys, the [dp] table, paths relative to
    ``base``); every value is checked by :class:`ReleaseConfig`, and its sentence,
    the same as for a command-line flag, follows the name of ``source``.
    """
    unknown = sorted(set(raw) - set(_TOP_KEYS))
    if unknown:
        raise ParameterError(
            f"{_capital(source)} has unknown key(s) {unknown}; allowed are {list(_TOP_KEYS)} "
            "(advanced DP parameters go in a [dp] table)."
        )
    values = {key: value for key, value in raw.items() if key != "dp"}
    for key in _PATH_KEYS:
        if isinstance(values.get(key), str) and values[key]:
            path = Path(values[key]).expanduser()
            values[key] = path if path.is_absolute() or base is None else base / path
    if isinstance(values.get("null_values"), list):
        values["null_values"] = tuple(values["null_values"])
    dp = raw.get("dp", {})
    if not isinstance(dp, dict):
        raise ParameterError(f"dp in {source} must be a table: write [dp] on its own line.")
    try:
        return ReleaseConfig(**values, dp=MappingProxyType(dict(dp)))
    except ParameterError as exc:
        raise ParameterError(f"In {source}: {exc}") from None


def advanced_dp(values: object) -> dict[str, Any]:
    """The advanced DP parameters ``values`` names, if every key is one of :data:`DP_KEYS`.

    Their values are checked by :class:`~dpshowcase.privacy.accounting.DpParameters`.
    """
    if not isinstance(values, Mapping):
        raise ParameterError(
            f"The advanced DP parameters must be a table of {', '.join(DP_KEYS)}, not {values!r}."
        )
    unknown = sorted(set(values) - set(DP_KEYS))
    if unknown:
        raise ParameterError(
            f"Unknown advanced DP parameter(s) {unknown}; allowed are {list(DP_KEYS)}."
        )
    return dict(values)


def _path(name: str, value: object) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value:
        raise ParameterError(f"{name} must be a path (a file or folder name in quotes).")
    return Path(value)


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
