"""The datasheet of a release bundle (its README.md), written for the people who use it.

It says what the columns are, how the data were protected, what may be fabricated or
suppressed, and what the data cannot tell. It is a function of public inputs only — the
protected aggregates and their parameters, the schema, the released column names, the
source file's name and the synthetic row count — so writing it reveals nothing the
release does not already publish. It never looks at sensitive records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dpshowcase._version import __version__
from dpshowcase.aggregate.protected import ProtectedAggregates
from dpshowcase.privacy.accounting import record_count_warning
from dpshowcase.release.markdown import code_span, plain
from dpshowcase.schema.model import ColumnKind, ColumnSpec, Schema
from dpshowcase.synthesize.aggregate_seeded import DEFAULT_ROW_SHARE
from dpshowcase.synthesize.registry import CHOOSING, MODEL_SYNTHESIZERS

__all__ = [
    "NOT_FOR_RELEASE_BANNER",
    "NOT_FOR_RELEASE_WARNING",
    "release_warnings",
    "render_datasheet",
]

NOT_FOR_RELEASE_BANNER = "NOT FOR RELEASE — seeded noise"
NOT_FOR_RELEASE_WARNING = (
    "The noise was drawn from a seeded, reproducible generator (--seed): anyone who knows "
    "the seed can remove it, so these outputs are NOT differentially private. Use them for "
    "tests and demos only; never publish them."
)

_MAX_VALUES_SHOWN = 12


def render_datasheet(
    *,
    aggregates: ProtectedAggregates,
    schema: Schema,
    columns: Sequence[str],
    source_name: str,
    synthetic_rows: int,
    measurements: bool = False,
) -> str:
    """The datasheet as Markdown; ``measurements``: the bundle has noisy_aggregates.csv."""
    sections = [
        _title(aggregates, source_name, synthetic_rows),
        _files(measurements),
        _columns(aggregates, schema, columns),
        _protection(aggregates),
        _fabricated_and_suppressed(aggregates),
        _caveats(aggregates, schema),
    ]
    return "\n\n".join(s.strip("\n") for s in sections) + "\n"


def release_warnings(aggregates: ProtectedAggregates) -> tuple[str, ...]:
    """Sentences to read before publishing, from public figures of the release only.

    Today: the record count's noise is large relative to the protected count.
    """
    p = aggregates.parameters
    epsilon_n = p.get("epsilon_record_count")
    if aggregates.mode != "dp" or p.get("record_count_public"):
        return ()
    if isinstance(epsilon_n, bool) or not isinstance(epsilon_n, int | float):
        return ()
    warning = record_count_warning(float(epsilon_n), int(aggregates.record_count))
    return (warning,) if warning else ()


def _title(aggregates: ProtectedAggregates, source_name: str, synthetic_rows: int) -> str:
    lines = [f"# Release of {_code(source_name)}: protected counts and synthetic records"]
    if not aggregates.private:
        lines += [
            "",
            f"> **⚠ {NOT_FOR_RELEASE_BANNER.upper()} ⚠**",
            ">",
            f"> {NOT_FOR_RELEASE_WARNING}",
        ]
    lines += [
        "",
        f"**Guarantee.** {aggregates.guarantee}",
        "",
        f"Made by dpshowcase {__version__} from {_code(source_name)}. It holds "
        f"{synthetic_rows:,} synthetic records and the protected counts of "
        f"{len(aggregates.counts):,} attribute combinations of up to "
        f"{aggregates.reporting_length} attributes; the protected number of records is "
        f"{aggregates.record_count:,}.",
    ]
    if aggregates.mode == "dp":
        lines[-1] += (
            " A record the synthesis left without any value is not written: a row of empty "
            "cells describes nobody."
        )
    for warning in release_warnings(aggregates):
        lines += ["", f"> **Warning.** {warning}"]
    return "\n".join(lines)


def _files(measurements: bool) -> str:
    noisy = (
        [
            "| `noisy_aggregates.csv` | the raw noisy measurements of every combination that "
            "passed the thresholds, which `aggregates.csv` was fitted to (those fitted to 0 "
            "are listed here only); unbiased, with the noise scale of each length given "
            "below, but not consistent with one another |"
        ]
        if measurements
        else []
    )
    return "\n".join(
        [
            "## Files",
            "",
            "| file | what it holds |",
            "|---|---|",
            '| `synthetic.csv`, `synthetic.parquet` | synthetic records ("statistical '
            'individuals"), one per row, with the columns described below |',
            "| `aggregates.csv` | protected counts: `combination,length,count`, a combination "
            "written `column:value;column:value`; a combination is *released* when it is "
            "listed here; for a DP release the single-attribute counts are the protected "
            "measurements and every longer count is the synthetic records' own (consistent "
            "estimates, fitted to all measurements at once) |",
            *noisy,
            "| `parameters.json` | the guarantee and every parameter of the protection |",
            "| `manifest.json` | checksum and size of every file, tool version, schema |",
            "| `README.md` | this datasheet |",
            "| `report.html`, `metrics.json` | the public evaluation: how the synthetic "
            "records agree with the protected counts, computed from the files above only |",
        ]
    )


def _columns(aggregates: ProtectedAggregates, schema: Schema, columns: Sequence[str]) -> str:
    released = _released_values(aggregates)
    lines = [
        "## Columns",
        "",
        "Each column holds the values below; an empty cell means no value (not recorded, "
        "or a flag that is not set). Only values that passed protection appear.",
        "",
        "| column | kind | how cells are written | released values |",
        "|---|---|---|---|",
    ]
    for name in columns:
        spec = schema.column(name)
        values = released.get(name, [])
        shown = ", ".join(_code(v) for v in values[:_MAX_VALUES_SHOWN])
        if len(values) > _MAX_VALUES_SHOWN:
            shown += f", … ({len(values):,} in all)"
        if not values:
            shown = "none: no value passed protection, so the column is empty"
        lines.append(f"| {plain(name)} | {spec.kind.value} | {_how(spec)} | {_cell(shown)} |")
    if schema.subject_id:
        lines += [
            "",
            f"The subject id column {_code(schema.subject_id)} is not released: the rows of "
            "one subject were merged into one record before counting.",
        ]
    return "\n".join(lines)


def _how(spec: ColumnSpec) -> str:
    if spec.kind is ColumnKind.NUMERIC:
        if spec.bins is not None:
            edges = ", ".join(f"{e:g}" for e in spec.bins)
            if spec.open_ended:
                return _cell(
                    f"a range label; bins at {edges}, open below the first and above the last"
                )
            return _cell(f"a range label; bins with edges {edges}")
        return _cell(f"a range label; {spec.quantiles} equal-frequency bins")
    if spec.kind is ColumnKind.MULTI_VALUE:
        return _cell(
            f"several values joined by {_code(spec.delimiter)}; each value counts as an "
            "attribute of its own"
        )
    how = "one value; 0 is an answer" if spec.sensitive_zero else "one value"
    if spec.categories is not None:
        how += (
            f" of {len(spec.categories)} declared public categories"
            + ("" if spec.can_be_empty else ", never empty")
        )
    return how


def _released_values(aggregates: ProtectedAggregates) -> dict[str, list[str]]:
    attributes = aggregates.attributes
    out: dict[str, list[str]] = {}
    for column_index, value in zip(
        attributes.attribute_column.tolist(), attributes.attribute_value, strict=True
    ):
        out.setdefault(attributes.columns[column_index], []).append(value)
    return out


def _protection(aggregates: ProtectedAggregates) -> str:
    p = aggregates.parameters
    lines = ["## How the data were protected", "", aggregates.guarantee, ""]
    if aggregates.mode != "dp":
        lines += [
            "The counts were protected by k-anonymity (see `parameters.json`); k-anonymity "
            "is not differential privacy and gives no guarantee against linkage with "
            "other data.",
            *_k_protection(aggregates),
        ]
        return "\n".join(lines)
    if p.get("synthesizer") in MODEL_SYNTHESIZERS:
        return "\n".join(lines + _model_protection(aggregates))
    unit = p.get("privacy_unit", "record")
    unit_words = (
        "one subject (all rows of one person, merged before counting)"
        if unit == "subject"
        else "one record (one row of the data)"
    )
    lines += [
        "In plain words: whatever anyone learns from this release, they would have learnt "
        f"almost as much had any {unit_words} been left out of the data. ε and δ measure "
        'how much "almost" is: smaller is more private.',
        "",
        f"- **Privacy unit:** {unit_words}.",
        f"- **ε = {_number(p.get('epsilon'))}** in all: {_epsilon_split(p)}.",
        f"- **δ = {_number(p.get('delta'))}**"
        + (
            ", set to 1/(n·ln n) from the protected number of records n"
            if p.get("delta_inferred")
            else ", as given"
        )
        + ": the small chance that the guarantee does not hold.",
        f"- **Reporting length R = {aggregates.reporting_length}:** counts were computed for "
        f"every combination of 1 to {aggregates.reporting_length} attributes (each from a "
        "different column); longer combinations were never counted.",
        "- **Noise:** each count got discrete Gaussian noise, whose size (the noise scale "
        "below) grows with how many combinations one record can contribute to (the allowed "
        f"sensitivity, {_sensitivity_words(p.get('percentile_percentage'))}; records with "
        "more combinations contributed a random subset of them).",
        "- **Thresholds:** a combination was released only if its noisy count exceeded the "
        "threshold of its length. The threshold for single attributes is fixed by the "
        "guarantee; longer ones trade fabricated against suppressed combinations "
        f"({p.get('threshold_mode', 'adaptive')} thresholds).",
        "- **Normalisation:** no combination reports more than any of its parts.",
        "- **Number of records:** "
        + (
            "declared public by the data owner and published exactly."
            if p.get("record_count_public")
            else f"protected with noise; the protected count is {aggregates.record_count:,}."
        ),
        "- **Synthetic records** were generated from the protected counts alone, never from "
        "the sensitive records, so they carry the same guarantee (post-processing).",
    ]
    lengths = p.get("lengths") or []
    if lengths:
        lines += [
            "",
            "| length | σ | allowed sensitivity | noise scale | threshold |",
            "|---:|---:|---:|---:|---:|",
        ]
        for entry in lengths:
            lines.append(
                f"| {entry.get('length', '')} | {_number(entry.get('sigma'))} "
                f"| {_number(entry.get('sensitivity'))} | {_number(entry.get('noise_scale'))} "
                f"| {_number(entry.get('threshold'))} |"
            )
        zero = [
            str(e.get("length"))
            for e in lengths
            if isinstance(e.get("threshold"), int | float) and e["threshold"] <= 0
        ]
        if zero:
            lines += ["", f"Length {', '.join(zero)}: {THRESHOLD_ZERO}"]
    lines += ["", f"**Which synthesizer?** {CHOOSING}"]
    return "\n".join(lines)


def _epsilon_split(p: dict[str, Any]) -> str:
    """"3.9 for the counts of combinations and 0.1 for the number of records" (and edges)."""
    parts = [
        f"{_number(p.get('epsilon_marginals'))} for the counts of combinations",
        f"{_number(p.get('epsilon_record_count'))} for the number of records",
    ]
    if p.get("epsilon_edges"):
        parts.append(f"{_number(p.get('epsilon_edges'))} for bin edges chosen from the data")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _model_protection(aggregates: ProtectedAggregates) -> list[str]:
    """The protection of an AIM or MST release, in plain words."""
    p = aggregates.parameters
    name = str(p.get("synthesizer", "")).upper()
    marginals = p.get("measured_marginals") or []
    settings = p.get("settings") or {}
    how = (
        "selected them one round at a time with the exponential mechanism, always the "
        "marginal the model so far got most wrong"
        if name == "AIM"
        else "measured every column, then chose the pairs of columns of a maximum spanning "
        "tree with the exponential mechanism"
    )
    count = (
        "the number of records was declared public"
        if p.get("record_count_public")
        else "the number of records was estimated from the noisy 1-way marginals, with no "
        "budget of its own"
        if str(p.get("record_count_source") or "").startswith("estimated")
        else f"{_number(p.get('epsilon_record_count'))} for the number of records"
    )
    return [
        f"- **ε = {_number(p.get('epsilon'))}** in all: {_number(p.get('epsilon_marginals'))} "
        f"for selecting and measuring marginals; {count}.",
        f"- **δ = {_number(p.get('delta'))}**"
        + (
            ", set to 1/(n·ln n) from the protected number of records n"
            if p.get("delta_inferred")
            else ", as given"
        )
        + ": the small chance that the guarantee does not hold.",
        f"- **{name}** measured {len(marginals)} marginals (tables of counts of every "
        f"combination of values of a few columns) with discrete Gaussian noise; it {how}. "
        f"Settings: {', '.join(f'{k} = {v}' for k, v in settings.items() if k != 'edges')}.",
        "- **Values:** a value of a column was kept only if its noisy count exceeded a "
        "threshold fixed by the guarantee; the records of rarer values show no value there. "
        "Columns whose values the schema declares (categories, or bins) keep every declared "
        "value with no threshold, and show no value only if the schema allows empty cells.",
        "- **Synthetic records** were sampled from a graphical model (private-pgm) estimated "
        "from the noisy marginals alone, never from the sensitive records (post-processing).",
        "- **Published counts** (aggregates.csv) are the synthetic records' counts of every "
        "combination inside a measured marginal: one consistent set of estimates.",
        "",
        f"**Which synthesizer?** {CHOOSING}",
    ]


def _sensitivity_words(percentile: Any) -> str:
    if percentile is None:
        return "set to a public bound"
    return (
        f"chosen as a differentially private {_number(percentile)}th percentile of how many "
        "each record holds"
    )


def _fabricated_and_suppressed(aggregates: ProtectedAggregates) -> str:
    if aggregates.mode != "dp":
        return _k_suppressed(aggregates)
    if aggregates.parameters.get("synthesizer") in MODEL_SYNTHESIZERS:
        suppressed = aggregates.parameters.get("suppressed_values") or {}
        return "\n".join(
            [
                "## What is fabricated or suppressed",
                "",
                "- **Fabricated** combinations: the graphical model gives every combination "
                "of kept values some probability, so the synthetic records (and the "
                "published counts) hold combinations that no real record holds. Small "
                "counts of long combinations are the least trustworthy.",
                "- **Suppressed** values: "
                + (
                    ", ".join(f"{_code(c)} {n}" for c, n in suppressed.items() if n)
                    or "none"
                )
                + " value(s) per column fell under the threshold and appear nowhere.",
                "",
                f"{CHOOSING}",
            ]
        )
    lines = [
        "## What is fabricated or suppressed",
        "",
        "- **Fabricated** combinations appear in this release although they may not exist "
        "in the real data: noise lifted a count of zero above the threshold. Their counts "
        "are usually small.",
        "- **Suppressed** combinations exist in the real data but are not released: their "
        "noisy count fell below the threshold. Small groups are suppressed most.",
        "",
        "Which released combinations are fabricated cannot be said without the sensitive "
        "data, so this datasheet does not say it.",
        "",
        "The synthetic records are fitted to the released counts and are about as many and "
        "as full as the real records, so they also hold combinations that were *not* "
        "released: most of them exist in the real data but were too rare to pass the "
        "threshold, some do not. Their counts in the synthetic data are small and carry no "
        "information beyond the release; do not read them as findings."
        + _fabrication_weight(aggregates),
    ]
    by_length = {int(k): int((aggregates.counts.lengths == k).sum()) for k in _lengths(aggregates)}
    candidates = {
        int(e["length"]): e.get("candidates")
        for e in aggregates.parameters.get("lengths") or []
        if "length" in e
    }
    lines += ["", "| length | candidates | released | share released |", "|---:|---:|---:|---:|"]
    for k, released in by_length.items():
        total = candidates.get(k)
        share = f"{released / total:.0%}" if isinstance(total, int) and total > 0 else "—"
        shown = f"{total:,}" if isinstance(total, int) else "—"
        lines.append(f"| {k} | {shown} | {released:,} | {share} |")
    lines += [
        "",
        "Candidates of length 1 are the attributes found in the data; candidates of a "
        "longer length are the combinations all of whose parts were released one length "
        "below. Candidates that are not released are either rare or absent in the data.",
    ]
    return "\n".join(lines)


def _k_protection(aggregates: ProtectedAggregates) -> list[str]:
    """The k-anonymity parameters in plain words (mode "k-anonymity")."""
    p = aggregates.parameters
    k = _number(p.get("k"))
    synthesizer = p.get("synthesizer", "—")
    source = (
        "from the released counts alone (post-processing)"
        if synthesizer == "aggregate-seeded"
        else "from the sensitive records, keeping only attribute sets held by at least "
        + f"{k} of them"
    )
    lines = [
        "",
        f"- **k = {k}:** every count was rounded down to a multiple of {k}; combinations "
        f"held by fewer than {k} records were not released.",
        f"- **Reporting length R = {aggregates.reporting_length}:** counts were computed for "
        f"every combination of 1 to {aggregates.reporting_length} attributes.",
        f"- **Number of records:** rounded down to a multiple of {k}: {aggregates.record_count:,}.",
        f"- **Synthetic records** ({_code(str(synthesizer))}) were made {source}. Before "
        "anything was written, every combination of up to "
        f"{aggregates.reporting_length} attributes in them was checked against the exact "
        f"counts: each describes at least {k} records.",
    ]
    if p.get("whole_record_k_anonymity"):
        lines.append(
            f"- **Whole records:** each synthetic record as a whole is held by at least {k} "
            "sensitive records, so no row copies a rare case."
        )
    lines.append(
        "- **Held by k, and identical: two notions.** A real record *holds* a synthetic "
        "record (or a combination) when it has all of its attributes, and maybe more "
        "besides; a synthetic record is *identical* to a real one when the two are equal in "
        "every column, empty cells included. So a synthetic record held by "
        f"{k} real records can still be identical to one real record that is unique (no "
        "other real record equals it), because the others hold more attributes. The "
        "evaluation report with the sensitive data counts such copies."
    )
    return lines


def _fabrication_weight(aggregates: ProtectedAggregates) -> str:
    synthesis = aggregates.parameters.get("synthesis")
    if not isinstance(synthesis, dict) or "fabrication_weight" not in synthesis:
        return ""
    text = (
        f" Synthesis weighed each such occurrence {synthesis['fabrication_weight']:g} times a "
        "unit of error of a released count (the fabrication weight; higher values give "
        "fewer such combinations and larger count errors)."
    )
    chosen = synthesis.get("fabrication_weight_from")
    if isinstance(chosen, str) and chosen.startswith("the data"):
        text += f" The weight was chosen from {chosen}."
    doubtful, scales = synthesis.get("doubtful_combinations"), synthesis.get(
        "doubtful_below_noise_scales"
    )
    if isinstance(doubtful, int) and doubtful > 0 and isinstance(scales, int | float):
        r = aggregates.counts.reporting_length
        name = _LENGTH_NAMES.get(r, f"combinations of length {r}")
        text += (
            f" {doubtful:,} released {name} measured below {scales:g} noise scales were "
            "fitted as if not released (noise alone lifts many that do not exist that far): "
            "the synthetic records hold them only where the other counts need them, and "
            "aggregates.csv gives the count the records hold."
        )
    share = synthesis.get("row_share")
    if isinstance(share, int | float) and share > DEFAULT_ROW_SHARE:
        text += (
            f" The synthetic file holds up to {share:g} records per protected record (the "
            "row share): the extra records are sparse and hold the single attributes the "
            "others could not take without fabricating, so a synthetic row is not a case; "
            "count cases from aggregates.csv, not from the rows."
        )
    caps = synthesis.get("unreleased_limits")
    if isinstance(caps, dict) and caps:
        shown = ", ".join(
            f"{_LENGTH_NAMES.get(int(k), f'length {k}')}: at most {int(v):,} times"
            for k, v in sorted(caps.items())
        )
        detected = _detection_lengths(aggregates, caps)
        text += (
            " No combination that was not released appears in the synthetic data as often "
            "as its length's release threshold"
            + (
                f" or, for {detected}, whose threshold is 0, as the count its noise lets "
                "through with 95% probability"
                if detected
                else ""
            )
            + f" ({shown}), and no combination the schema lists as impossible appears at all."
        )
    gained = synthesis.get("empty_cells_gained")
    if isinstance(gained, dict) and any(v > 0 for v in gained.values()):
        top = sorted(gained.items(), key=lambda item: -item[1])
        shown = ", ".join(f"{_code(c)} {v:.1%}" for c, v in top if v > 0)
        text += (
            " Where a value could only be placed by making up such combinations, a record "
            "leaves it empty; the share of cells each column leaves empty beyond what its "
            f"released counts imply: {shown} (other columns: none)."
        )
    return text


_LENGTH_NAMES = {2: "pairs", 3: "triples"}


def _detection_lengths(aggregates: ProtectedAggregates, caps: dict[str, Any]) -> str:
    """The limited lengths whose release threshold is not positive, named ("triples"):
    their limit is the detection count (synthesize/limits.py), not the threshold."""
    thresholds: dict[int, float] = {
        int(e["length"]): float(e["threshold"])
        for e in aggregates.parameters.get("lengths") or []
        if isinstance(e, dict) and "length" in e and isinstance(e.get("threshold"), int | float)
    }
    names = [
        _LENGTH_NAMES.get(int(k), f"length {k}")
        for k in sorted(caps, key=int)
        if thresholds.get(int(k), 1.0) <= 0
    ]
    return " and ".join(names)


def _k_suppressed(aggregates: ProtectedAggregates) -> str:
    """Fabrication and suppression under k-anonymity: none, and below k."""
    k = _number(aggregates.parameters.get("k"))
    lines = [
        "## What is fabricated or suppressed",
        "",
        "- **Nothing is fabricated:** every released combination, and every combination of "
        f"up to {aggregates.reporting_length} attributes in the synthetic records, is held "
        f"by at least {k} records of the real data.",
        f"- **Suppressed** combinations are those of fewer than {k} records: they are not "
        "released and do not appear in the synthetic records. Small groups are suppressed "
        "most.",
        "",
        "| length | candidates | released | share released |",
        "|---:|---:|---:|---:|",
    ]
    for length in _lengths(aggregates):
        released = int((aggregates.counts.lengths == length).sum())
        lines.append(f"| {length} | — | {released:,} | — |")
    lines += [
        "",
        "How many combinations the real data hold is not published: it would tell how many "
        f"rare combinations (below {k}) there are.",
    ]
    return "\n".join(lines)


def _lengths(aggregates: ProtectedAggregates) -> range:
    return range(1, aggregates.reporting_length + 1)


def _caveats(aggregates: ProtectedAggregates, schema: Schema) -> str:
    lines = [
        "## Caveats: coverage and bias",
        "",
        "- **Who is in the data is who was identified.** The records describe people that "
        "the contributing organisations identified and recorded, not all people affected. "
        "Differences between places, years or groups may reflect where and how "
        "organisations work rather than where harm happens.",
        "- **Small groups are suppressed.** Rare combinations fall below the thresholds and "
        "disappear, so the release under-represents small groups; an absent combination "
        "does not mean nobody has it.",
        "- **Synthetic records are not real people.** Each row is a statistical individual "
        "assembled from protected counts. Do not read a row as a case, do not try to find "
        "anyone in it, and do not link it with other data.",
        _use_aggregates(aggregates),
        "- **All counts are noisy.** Small counts carry relatively the most noise.",
    ]
    if aggregates.mode != "dp":
        lines[3] = (
            f"- **Small groups are suppressed.** Combinations of fewer than "
            f"{_number(aggregates.parameters.get('k'))} records are not released, so the "
            "release under-represents small groups; an absent combination does not mean "
            "nobody has it."
        )
        lines[-1] = (
            "- **Counts are rounded down** to a multiple of k, so each is up to k − 1 below "
            "the true count."
        )
    derived = schema.data_derived_edges
    if derived:
        lines.append(
            f"- **Bin edges from the data.** The edges of {', '.join(_code(n) for n in derived)} "
            "were computed from the data (quantiles, or proposed by `schema infer`); the edges "
            "themselves are not covered by the protection above."
        )
    chosen = [s.name for s in schema.columns if s.kind is ColumnKind.NUMERIC and s.edges == "dp"]
    if chosen:
        epsilon_edges = _number(aggregates.parameters.get("epsilon_edges"))
        lines.append(
            f"- **Bin edges chosen with differential privacy.** The edges of "
            f"{', '.join(_code(n) for n in chosen)} are DP quantiles of the data among fixed "
            f"round numbers, paid for by ε = {epsilon_edges} of the budget (see "
            "`private_edges` in `parameters.json`); with little data or budget they can be "
            "far from the true quantiles, so some bins may be nearly empty."
        )
    declared = [
        s.name
        for s in schema.columns
        if s.kind is ColumnKind.NUMERIC
        and s.bins is not None
        and s.name not in derived
        and s.edges != "dp"
    ]
    if declared:
        lines.append(
            f"- **Bin edges declared public.** The edges of "
            f"{', '.join(_code(n) for n in declared)} were given in the schema as chosen "
            "without looking at the data (edges = \"public\", or written by hand); they are "
            "published as they are and spend no privacy budget."
        )
    if not aggregates.private:
        lines.append(f"- **{NOT_FOR_RELEASE_BANNER}.** {NOT_FOR_RELEASE_WARNING}")
    return "\n".join(lines)


def _use_aggregates(aggregates: ProtectedAggregates) -> str:
    """The caveat on counting synthetic records, as true of this release's mode."""
    unmeasured = (
        f"patterns among more than {aggregates.reporting_length} attributes were never "
        "measured: synthetic data can show them only by chance."
    )
    if aggregates.mode == "dp":
        per_length = aggregates.parameters.get("raised_to_measurement") or {}
        raised = sum(int(n) for n in per_length.values())
        held = (
            "The synthetic records hold exactly the counts listed there for combinations of "
            "2 or more attributes"
        )
        if raised:
            held += (
                f", except {raised:,} where they fall more than two noise scales short of "
                "the measurement: those are listed at the measurement less two noise scales, "
                "and the records hold fewer"
            )
        return (
            f"- **Use `aggregates.csv` for counts.** {held}; their "
            "single-attribute counts can differ from the listed ones, which are the "
            "protected measurements. A count of any other combination taken from them has "
            "no protected count behind it, and " + unmeasured
        )
    return (
        "- **Use `aggregates.csv` for counts.** The synthetic records are made to agree with "
        "the protected counts but do not match them all exactly, and " + unmeasured
    )


THRESHOLD_ZERO = (
    "A threshold of 0 releases every candidate whose noisy count came out above 0: by the "
    "symmetry of the noise, also about half of the candidates that do not occur in the "
    "data at all."
)
"""What a threshold of 0 means, said wherever one is shown."""


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.3g}"
    return str(value)


def _code(text: str) -> str:
    """Text from the data or the user as a code span: never HTML, never Markdown."""
    return code_span(text)


def _cell(text: str) -> str:
    """Code spans and fixed words, safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
