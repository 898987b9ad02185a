"""DP marginals on small data: structure, invariants and the public boundary."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from dpshowcase.aggregate.count import count_combinations
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.data.prepare import prepare
from dpshowcase.errors import ParameterError
from dpshowcase.privacy.marginals import DPMarginals
from dpshowcase.synthesize import aggregate_seeded
from dpshowcase.synthesize.aggregate_seeded import AggregateSeededSynthesizer


def _table(rows: int = 3000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], rows, p=[0.6, 0.3, 0.1])
    b = np.where(a == "x", rng.choice(["p", "q"], rows, p=[0.8, 0.2]), "q")
    c = rng.choice(["1", ""], rows, p=[0.3, 0.7])
    return pl.DataFrame({"a": a, "b": b, "c": c})


def test_released_combinations_are_closed_under_subsets_and_normalised():
    data = prepare(_table())
    protected = DPMarginals(epsilon=2, seed=3).fit(data)
    released = protected.counts.as_dict()
    assert released, "a 3,000-row table at ε=2 releases something"
    for combo, count in released.items():
        for drop in range(len(combo)):
            sub = combo[:drop] + combo[drop + 1 :]
            if sub:
                assert sub in released, "every sub-combination of a release is released"
                assert count <= released[sub], "normalisation: no count above its subsets"


def test_never_combines_two_values_of_one_column():
    protected = DPMarginals(epsilon=8, seed=1).fit(prepare(_table()))
    columns = protected.attributes.attribute_column
    for combo in protected.counts.as_dict():
        assert len({int(columns[a]) for a in combo}) == len(combo)


def test_counts_track_the_exact_counts_at_large_epsilon():
    data = prepare(_table(rows=20_000))
    exact = count_combinations(data, 2)
    protected = DPMarginals(
        epsilon=50, allow_large_epsilon=True, reporting_length=2, seed=5
    ).fit(data)
    labels_exact = dict(zip(exact.labels().to_list(), exact.counts.tolist(), strict=True))
    labels_dp = dict(
        zip(protected.counts.labels().to_list(), protected.counts.counts.tolist(), strict=True)
    )
    # σ_k·√Δ_k at ε=50 is a few units; every combination with ≥ 500 records is released
    # and lies within 5 noise scales (all lengths) of its exact count
    scale = max(L["noise_scale"] for L in protected.parameters["lengths"])
    for label, count in labels_exact.items():
        if count >= 500:
            assert label in labels_dp
            assert abs(labels_dp[label] - count) <= 5 * scale + 1


def test_rare_attribute_is_suppressed():
    frame = pl.concat([_table(), pl.DataFrame({"a": ["rare"], "b": ["p"], "c": ["1"]})])
    protected = DPMarginals(epsilon=1, seed=2).fit(prepare(frame))
    assert protected.attributes.find("a", "rare") is None, "a value only one record holds"


def test_parameters_state_the_guarantee_and_each_length():
    protected = DPMarginals(epsilon=4, seed=7).fit(prepare(_table()))
    params = protected.parameters
    assert params["guarantee"].startswith("(ε=4")
    assert len(params["lengths"]) == 3
    for entry in params["lengths"]:
        assert {"sigma", "sensitivity", "threshold", "noise_scale"} <= set(entry)
    assert protected.private is False, "seeded noise is never private"
    assert "NOT for release" in params["noise_source"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": -1}, "epsilon"),
        ({"epsilon": 1, "delta": 1.0}, "delta"),
        ({"epsilon": 1, "reporting_length": 0}, "reporting_length"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        DPMarginals(seed=1, **kwargs)


def test_reporting_length_beyond_the_columns_is_refused():
    with pytest.raises(ParameterError, match="columns"):
        DPMarginals(epsilon=1, reporting_length=4, seed=1).fit(prepare(_table()))


def test_synthesizer_refuses_sensitive_records():
    data = prepare(_table())
    with pytest.raises(ParameterError, match="protected aggregates only"):
        AggregateSeededSynthesizer().fit(data)  # type: ignore[arg-type]


def test_synthesis_modules_never_import_sensitive_data():
    """Synthesis may encode its own public output (encode_public), nothing sensitive."""
    import ast
    from pathlib import Path

    import dpshowcase.synthesize as package

    public = {"encode_public", "PublicRecords"}
    for path in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {a.name for a in node.names}
                assert not node.module.startswith("dpshowcase.data") or names <= public, (
                    f"{path.name} imports {node.module}: synthesis reads protected data only"
                )


def test_synthetic_records_hold_only_released_attributes():
    protected = DPMarginals(epsilon=4, seed=11).fit(prepare(_table()))
    assert isinstance(protected, ProtectedAggregates)
    frame = AggregateSeededSynthesizer(seed=1, sweeps=3).fit(protected).sample()
    assert frame.columns == ["a", "b", "c"]
    released = {
        (protected.attributes.columns[c], v)
        for c, v in zip(
            protected.attributes.attribute_column.tolist(),
            protected.attributes.attribute_value,
            strict=True,
        )
    }
    for column in frame.columns:
        for value in frame.get_column(column).unique().to_list():
            assert value == "" or (column, value) in released
    # the protected count times the row share, less the records left empty (never written)
    assert frame.height <= round(protected.record_count * aggregate_seeded.DEFAULT_ROW_SHARE)
    assert frame.select(pl.any_horizontal(pl.all() != "")).to_series().all()


def _released_pair(protected, first: tuple[str, str], second: tuple[str, str]) -> bool:
    index = protected.attributes
    a, b = index.find(*first), index.find(*second)
    if a is None or b is None:
        return False
    return tuple(sorted((a, b))) in protected.counts.as_dict()


def test_fabrication_follows_the_adaptive_threshold():
    """b:p never occurs with a:y (b is q whenever a is not x), so the pair's true count
    is 0. With η_2 = 1 its threshold is 0 and, noise being symmetric, it is released
    about half the time (P(noise > 0) = (1 − P(0))/2 ≈ 0.49 at this scale); with
    η_2 = 0.01 the threshold is 2.58 noise scales and it is released < 1% of the time.
    Over 200 seeds: ≥ 70 vs ≤ 10 releases is far outside sampling error both ways."""
    data = prepare(_table(rows=5000))
    loose = tight = 0
    for seed in range(200):
        kwargs = {"epsilon": 2, "reporting_length": 2, "seed": seed}
        loose += _released_pair(
            DPMarginals(adaptive_factors=1.0, **kwargs).fit(data), ("a", "y"), ("b", "p")
        )
        tight += _released_pair(
            DPMarginals(adaptive_factors=0.01, **kwargs).fit(data), ("a", "y"), ("b", "p")
        )
    assert loose >= 70
    assert tight <= 10


def test_subject_is_the_privacy_unit_when_the_schema_names_one():
    from dpshowcase.schema.model import ColumnSpec, Schema

    frame = _table(rows=400).with_columns(pl.Series("case", [str(i // 2) for i in range(400)]))
    schema = Schema(
        columns=(ColumnSpec(name="a"), ColumnSpec(name="b"), ColumnSpec(name="c")),
        subject_id="case",
    )
    data = prepare(frame, schema)
    assert data.n_records == 200, "two rows per subject merge into one record"
    protected = DPMarginals(epsilon=4, seed=1).fit(data)
    assert protected.parameters["privacy_unit"] == "subject"
    assert "for each subject" in protected.guarantee


def test_unseeded_synthesis_states_the_exact_counts_of_its_records():
    """Without a seed the fit runs on several threads; the synthetic counts (published for
    every combination longer than one attribute) are recounted from the records, so they
    are exact whatever the threads did."""
    from dpshowcase.aggregate.count import count_combinations
    from dpshowcase.schema.model import Schema

    protected = DPMarginals(epsilon=4, seed=3).fit(prepare(_table(rows=6000)))
    synthesizer = AggregateSeededSynthesizer().fit(protected)
    frame = synthesizer.sample()
    published = synthesizer.synthetic_aggregates()
    recount = count_combinations(prepare(frame, Schema.all_categorical(frame.columns)), 3)
    actual = dict(zip(recount.labels().to_list(), recount.counts.tolist(), strict=True))
    labels = published.counts.labels().to_list()
    assert labels == protected.counts.labels().to_list(), "same combinations as released"
    for label, count in zip(labels, published.counts.counts.tolist(), strict=True):
        assert actual.get(label, 0) == count


def test_fit_takes_a_table_as_well_as_encoded_data(tmp_path):
    table = _table(rows=2000)
    from_frame = DPMarginals(epsilon=2, seed=9).fit(table)
    from_encoded = DPMarginals(epsilon=2, seed=9).fit(prepare(table))
    path = tmp_path / "cases.csv"
    table.write_csv(path)
    from_file = DPMarginals(epsilon=2, seed=9).fit(path)
    expected = from_encoded.counts.as_dict()
    assert from_frame.counts.as_dict() == expected
    assert from_file.counts.as_dict() == expected


def test_fit_refuses_what_is_not_a_table():
    with pytest.raises(ParameterError, match="takes a table"):
        DPMarginals(epsilon=2, seed=1).fit([["x", "p"]])  # type: ignore[arg-type]


def test_fit_refuses_a_second_schema_for_encoded_data():
    with pytest.raises(ParameterError, match="already encoded"):
        DPMarginals(epsilon=2, seed=1).fit(prepare(_table()), schema="schema.toml")


class _RecordingNoise:
    """No noise at all; remembers the candidate range of every DP percentile asked."""

    private = False
    description = "no noise (test)"

    def __init__(self) -> None:
        self.upper_bounds: list[int] = []

    def add_discrete_gaussian(self, counts, scale):
        return np.asarray(counts, dtype=np.int64)

    def add_discrete_laplace(self, value, epsilon):
        return int(value)

    def select_percentile(self, values, alpha, epsilon, upper_bound):
        self.upper_bounds.append(int(upper_bound))
        return int(np.quantile(values, alpha)) if len(values) else 0


def test_percentile_candidate_range_does_not_depend_on_the_data():
    # Two neighbouring tables: the second has one more record, holding a value of the
    # multi-value column that no other record has. The range 0..C(slots, k) the DP
    # percentile chooses from must be the same for both (it comes from the schema).
    from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

    schema = Schema(
        columns=(
            ColumnSpec(name="a"),
            ColumnSpec(name="m", kind=ColumnKind.MULTI_VALUE, delimiter=";"),
        )
    )
    rows = 400
    base = pl.DataFrame(
        {"a": ["x", "y"] * (rows // 2), "m": ["p;q", "q", "p", "q;r"] * (rows // 4)}
    )
    neighbour = pl.concat([base, pl.DataFrame({"a": ["x"], "m": ["p;q;r;s;t;u;v"]})])
    bounds = []
    for table in (base, neighbour):
        noise = _RecordingNoise()
        DPMarginals(epsilon=4, reporting_length=2, noise=noise).fit(prepare(table, schema))
        bounds.append(noise.upper_bounds)
    assert bounds[0][0] == bounds[1][0]  # length 1: from the schema alone
    assert bounds[0] == bounds[1]  # length 2: from the released attributes (the same here)
