"""The datasheet (README.md of a bundle): what it says, from public inputs only."""

from __future__ import annotations

import inspect

import pytest

from dpshowcase.release.datasheet import NOT_FOR_RELEASE_BANNER, render_datasheet
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema

COLUMNS = ["means", "age", "gender", "empty"]


def render(aggregates, schema, columns=COLUMNS) -> str:
    return render_datasheet(
        aggregates=aggregates,
        schema=schema,
        columns=columns,
        source_name="cases.csv",
        synthetic_rows=4,
    )


def test_states_the_guarantee_and_the_plain_words(aggregates, schema):
    text = render(aggregates, schema)
    assert aggregates.guarantee in text
    assert "**ε = 1** in all" in text
    assert "δ = 1e-06**, as given" in text
    assert "Reporting length R = 2" in text
    assert "discrete Gaussian noise" in text
    assert "99th percentile" in text
    assert "protected count is 101" in text
    assert "from the protected counts alone, never from the sensitive records" in text
    # the per-length table: σ, allowed sensitivity, noise scale, threshold
    assert "| 1 | 3.1 | 4 | 6.2 | 25 |" in text
    assert "| 2 | 3.1 | 6 | 7.6 | 0 |" in text


def test_describes_every_released_column(aggregates, schema):
    text = render(aggregates, schema)
    assert "| gender | categorical | one value | `Female`, `Male` |" in text
    assert "| age | numeric | a range label; bins with edges 0, 18, 100 |" in text
    assert "several values joined by `;`" in text
    assert "| empty | categorical | one value | none: no value passed protection" in text
    assert text.index("| means |") < text.index("| age |") < text.index("| gender |")


def test_counts_released_combinations_against_candidates(aggregates, schema):
    text = render(aggregates, schema)
    assert "| 1 | 9 | 6 | 67% |" in text
    assert "| 2 | 13 | 5 | 38% |" in text
    assert "**Fabricated** combinations" in text
    assert "**Suppressed** combinations" in text


def test_caveats_on_coverage_and_bias(aggregates, schema):
    text = render(aggregates, schema)
    for phrase in (
        "Who is in the data is who was identified",
        "Small groups are suppressed",
        "Synthetic records are not real people",
        "Use `aggregates.csv` for counts",
    ):
        assert phrase in text


@pytest.mark.parametrize("private", [True, False], ids=["private", "seeded"])
def test_not_for_release_banner_iff_seeded(aggregates_factory, schema, private):
    text = render(aggregates_factory(private=private), schema)
    assert (NOT_FOR_RELEASE_BANNER.upper() in text) is (not private)
    assert ("NOT FOR RELEASE" in text.upper()) is (not private)
    if not private:
        assert text.index("NOT FOR RELEASE") < text.index("**Guarantee.**")  # on top


def test_subject_id_and_quantile_bins_are_explained(aggregates, schema_factory):
    schema = schema_factory(subject_id="caseId")
    text = render(aggregates, schema)
    assert "The subject id column `caseId` is not released" in text
    assert "Equal-frequency bins" not in text
    quantiles = Schema(
        columns=tuple(
            ColumnSpec(name="age", kind=ColumnKind.NUMERIC, quantiles=4) if c.name == "age" else c
            for c in schema.columns
        )
    )
    text = render(aggregates, quantiles)
    assert "a range label; 4 equal-frequency bins" in text
    assert "were computed from the data" in text


def test_k_anonymity_aggregates_render_without_dp_details(aggregates_factory, schema):
    text = render(aggregates_factory(mode="k-anonymity"), schema)
    assert "k-anonymity" in text
    assert "| 1 | — | 6 | — |" in text


def test_takes_only_public_inputs():
    parameters = set(inspect.signature(render_datasheet).parameters)
    assert parameters == {
        "aggregates",
        "schema",
        "columns",
        "source_name",
        "synthetic_rows",
        "measurements",  # a flag: whether the bundle holds the noisy measurements
    }


def test_is_a_pure_function_of_its_inputs(aggregates, schema):
    assert render(aggregates, schema) == render(aggregates, schema)


HOSTILE_COLUMNS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "a|<b onmouseover=alert(3)>",
    "x\n<script>alert(4)</script>",
)
HOSTILE_VALUES = (
    "<img src=x onerror=alert(5)>",
    "`</code><script>alert(6)</script>",
    "v|<script>alert(7)</script>",
    "[link](javascript:alert(8))",
    "\\|<script>alert(9)</script>",
    "*bold* <a href=javascript:alert(10)>x</a>",
)
_ALLOWED_TAGS = {
    "h1", "h2", "p", "blockquote", "strong", "em", "code", "ul", "li",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def _hostile_release(aggregates):
    """The hand-made release with column names and values an attacker chose."""
    import dataclasses

    index = dataclasses.replace(
        aggregates.attributes, columns=HOSTILE_COLUMNS, attribute_value=HOSTILE_VALUES
    )
    counts = dataclasses.replace(aggregates.counts, attributes=index)
    schema = Schema(
        columns=tuple(ColumnSpec(name=name) for name in HOSTILE_COLUMNS),
        subject_id="<svg onload=alert(11)>",
    )
    return aggregates.derive(counts=counts), schema


def test_the_rendered_datasheet_holds_no_html_from_the_data(aggregates):
    """CommonMark (with GFM tables) renders every hostile name and value as text."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    hostile, schema = _hostile_release(aggregates)
    text = render_datasheet(
        aggregates=hostile,
        schema=schema,
        columns=list(HOSTILE_COLUMNS),
        source_name="<img src=x onerror=alert(12)>.csv",
        synthetic_rows=4,
    )
    html = MarkdownIt("commonmark").enable("table").render(text)

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, list]] = []
            self.text: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, attrs))

        def handle_data(self, data):
            self.text.append(data)

    parser = Tags()
    parser.feed(html)
    assert {tag for tag, _ in parser.tags} <= _ALLOWED_TAGS
    for tag, attrs in parser.tags:  # only the alignment markdown-it writes on cells
        assert all(name == "style" and value.startswith("text-align") for name, value in attrs), (
            tag,
            attrs,
        )
    shown = "".join(parser.text)
    for name in HOSTILE_COLUMNS:  # shown as text, line breaks as a visible ␊
        assert name.replace("\n", "\u240a") in shown
    for value in HOSTILE_VALUES:
        assert value in shown
    assert "<svg onload=alert(11)>" in shown


def test_the_datasheet_says_nothing_it_contradicts(aggregates_factory, schema):
    """DP: what the synthetic records reproduce exactly is said once, and never denied."""
    text = render(aggregates_factory(), schema)
    assert "single-attribute counts are the protected measurements" in text
    assert "do not match" not in text
    assert "exactly" not in text.replace("hold exactly the counts listed there for", "")
    assert "hold exactly the counts listed there for combinations of 2 or more" in text
    assert "a combination is *released* when it is listed here" in text
    k_text = render(aggregates_factory(mode="k-anonymity"), schema)
    assert "do not match them all exactly" in k_text


def test_the_datasheet_names_the_counts_raised_above_the_records(aggregates_factory, schema):
    """Counts listed above what the synthetic records hold are counted and explained."""
    plain = aggregates_factory()
    raised = plain.derive(
        parameters={**plain.parameters, "raised_to_measurement": {"2": 7, "3": 5}}
    )
    text = render(raised, schema)
    assert "except 12 where they fall more than two noise scales short" in text
    assert "the records hold fewer" in text
    assert "except" not in render(plain, schema).split("Use `aggregates.csv` for counts")[1][:200]


def test_a_threshold_of_zero_says_what_it_releases(aggregates, schema):
    text = render(aggregates, schema)  # length 2 has threshold 0 in the hand-made release
    assert "Length 2: A threshold of 0 releases every candidate whose noisy count" in text
    assert "Length 1:" not in text


def test_k_anonymity_defines_held_by_and_identical_side_by_side(aggregates_factory, schema):
    aggregates = aggregates_factory(mode="k-anonymity")
    aggregates.parameters.update({"k": 5, "synthesizer": "row-seeded"})
    text = render(aggregates, schema)
    notion = text.split("**Held by k, and identical: two notions.**")[1].split("\n")[0]
    assert "*holds* a synthetic record" in notion
    assert "*identical* to a real one when the two are equal in every column" in notion
    assert "held by 5 real records can still be identical to one real record" in notion


def test_states_the_rule_on_unreleased_combinations_and_the_empty_cells(aggregates, schema):
    synthesis = {
        "fabrication_weight": 3.0,
        "unreleased_limits": {"2": 24},
        "empty_cells_gained": {"age": 0.021, "gender": 0.0},
    }
    # a positive pair threshold (the fixture's is 0: see the next test)
    lengths = [{**e, "threshold": 30.0} for e in aggregates.parameters["lengths"]]
    parameters = {**aggregates.parameters, "synthesis": synthesis, "lengths": lengths}
    text = render(aggregates.derive(parameters=parameters), schema)
    assert (
        "No combination that was not released appears in the synthetic data as often as its "
        "length's release threshold (pairs: at most 24 times)"
    ) in text
    assert "the schema lists as impossible appears at all" in text
    assert "beyond what its released counts imply: `age` 2.1% (other columns: none)" in text
    assert "as often as its length's release threshold" not in render(aggregates, schema)


def test_says_rows_are_not_cases_when_synthesis_wrote_extra_sparse_records(aggregates, schema):
    def sheet(share: float) -> str:
        synthesis = {"fabrication_weight": 5.0, "row_share": share}
        parameters = {**aggregates.parameters, "synthesis": synthesis}
        return render(aggregates.derive(parameters=parameters), schema)

    assert "holds up to 2.3 records per protected record" in sheet(2.3)
    assert "a synthetic row is not a case; count cases from aggregates.csv" in sheet(2.3)
    assert "records per protected record" not in sheet(1.25), "the default is about as many"


def test_says_where_a_fabrication_weight_chosen_from_the_data_came_from(aggregates, schema):
    chosen = "the data: 9.9 attributes per record (3 at 18 or more, 4 at 10 or fewer)"
    for source, shown in ((chosen, True), ("given", False)):
        synthesis = {"fabrication_weight": 7.0, "fabrication_weight_from": source}
        parameters = {**aggregates.parameters, "synthesis": synthesis}
        text = render(aggregates.derive(parameters=parameters), schema)
        assert "weighed each such occurrence 7 times" in text
        assert (f"count errors). The weight was chosen from {chosen}." in text) is shown


def test_states_a_zero_threshold_limit_as_the_count_the_noise_lets_through(aggregates, schema):
    # pairs have threshold 0 here (as triples in the default mode): their limit is the
    # detection count (synthesize/limits.py), and the sentence says so
    thresholds = {e["length"]: e["threshold"] for e in aggregates.parameters["lengths"]}
    assert thresholds[2] == 0
    synthesis = {"fabrication_weight": 3.0, "unreleased_limits": {"2": 24}}
    parameters = {**aggregates.parameters, "synthesis": synthesis}
    text = render(aggregates.derive(parameters=parameters), schema)
    assert (
        "No combination that was not released appears in the synthetic data as often as its "
        "length's release threshold or, for pairs, whose threshold is 0, as the count its "
        "noise lets through with 95% probability (pairs: at most 24 times)"
    ) in text


def test_says_how_many_released_combinations_synthesis_doubted(aggregates, schema):
    def sheet(doubtful: int) -> str:
        synthesis = {
            "fabrication_weight": 4.0,
            "doubtful_below_noise_scales": 0.5,
            "doubtful_combinations": doubtful,
        }
        parameters = {**aggregates.parameters, "synthesis": synthesis}
        return render(aggregates.derive(parameters=parameters), schema)

    r = aggregates.counts.reporting_length
    name = {2: "pairs", 3: "triples"}[r]
    assert f"1,234 released {name} measured below 0.5 noise scales were fitted as if not" in (
        sheet(1234)
    )
    assert "fitted as if not released" not in sheet(0)
