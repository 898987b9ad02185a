"""The report's HTML: sections of plain text, tables and charts from metrics.json."""

from __future__ import annotations

import html
import json
import math
from typing import Any

import plotly.offline

from dpshowcase.evaluate.report import _charts
from dpshowcase.synthesize.registry import CHOOSING

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.7em;margin:.2em 0 .4em}h2{margin-top:2em;border-bottom:2px solid #e5e5e5;
padding-bottom:.2em}h3{margin-top:1.4em}
.banner{background:#b8322a;color:#fff;padding:12px 16px;font-weight:600;border-radius:4px}
.public{background:#e8f3ea;border-left:4px solid #2e7d32;padding:8px 12px}
.private{background:#fdecea;border-left:4px solid #b8322a;padding:8px 12px}
.guarantee{font-size:1.1em;background:#eef4fa;border-left:4px solid #1f6fb2;padding:10px 14px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{flex:1 1 180px;border:1px solid #e2e2e2;border-radius:6px;padding:10px 12px;background:#fff}
.card .v{font-size:1.5em;font-weight:600}.card .l{color:#555;font-size:.9em}
table{border-collapse:collapse;margin:10px 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.93em}.ok{color:#2e7d32;font-weight:600}
.bad{color:#b8322a;font-weight:600}nav a{margin-right:12px}
code{background:#f3f3f3;padding:1px 4px;border-radius:3px}
footer{color:#777;font-size:.85em;margin-top:40px}
"""


def render_page(metrics: dict[str, Any], *, world_topojson: str | None) -> str:
    """The whole document."""
    charts = _Charts(_charts.report_charts(metrics))
    sections = [
        _header(metrics),
        _summary(metrics),
        _parameters(metrics),
        _combinations(metrics, charts),
        _comparability(metrics, charts),
        _distributions(metrics, charts),
        _coverage(metrics, charts),
        _fidelity(metrics, charts),
        _privacy(metrics, charts),
        _caveats(metrics),
        _footer(metrics),
    ]
    assets = ""
    if world_topojson is not None:
        safe = world_topojson.replace("</", "<\\/")
        assets = (
            "<script>window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};"
            f"window.PlotlyGeoAssets.topojson['world_110m'] = {safe};</script>"
        )
    title = "Release evaluation"
    source = metrics.get("release", {}).get("source")
    if source:
        title += f": {source}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        # no network at all: only inline scripts, styles and data: images are allowed
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
        'img-src data: blob:; font-src data:">'
        f"<title>{_e(title)}</title><style>{_CSS}</style>"
        f"{assets}<script>{plotly.offline.get_plotlyjs()}</script></head><body><main>"
        + "\n".join(s for s in sections if s)
        + "</main></body></html>\n"
    )


class _Charts:
    """The report's charts by key; each drawn where its section asks for it."""

    def __init__(self, charts: list[_charts.Chart]) -> None:
        self._by_key = {c.key: c for c in charts}

    def div(self, key: str) -> str:
        """The chart's <div> and script, or nothing when the report has no such chart."""
        chart = self._by_key.get(key)
        return _charts.to_div(chart) if chart else ""


# --- sections ----------------------------------------------------------------------


def _nist_card(fid: dict[str, Any]) -> list[tuple[str, str]]:
    """The NIST CRC k-marginal score of external synthetic data, when computed."""
    nist = fid.get("nist_k_marginal") or {}
    if nist.get("score") is None:
        return []
    within = ", PUMA × pairs" if nist.get("group_column") else ", all pairs"
    return [(f"NIST CRC k-marginal (SDNist{within})", f"{nist['score']}")]


def _header(m: dict[str, Any]) -> str:
    rel = m.get("release", {})
    parts = []
    if rel.get("not_for_release"):
        parts.append(
            "<div class='banner'>NOT FOR RELEASE — the noise was seeded (tests and demos "
            "only): anyone who knows the seed can remove it.</div>"
        )
    noun = "external synthetic data" if rel.get("kind") else "a release"
    title = f"Evaluation of {noun}" + (
        f" of <code>{_e(rel['source'])}</code>" if rel.get("source") else ""
    )
    parts.append(f"<h1>{title}</h1>")
    if m.get("public"):
        parts.append(
            "<p class='public'>This report was computed from the released files alone "
            "(protected counts and synthetic records). It reveals nothing the release does "
            "not, and may be published with it.</p>"
        )
    else:
        parts.append(
            "<p class='private'><b>Confidential.</b> This report compares the release with "
            "the sensitive data: its figures describe real records. Do not publish it.</p>"
        )
    if rel.get("guarantee"):
        parts.append(f"<p class='guarantee'><b>Guarantee.</b> {_e(rel['guarantee'])}</p>")
    if rel.get("mode") == "dp":
        used = (rel.get("parameters") or {}).get("synthesizer") or "aggregate-seeded"
        parts.append(
            f"<p><b>Synthesizer:</b> {_e(str(used))}. <b>Which synthesizer?</b> "
            f"{_e(CHOOSING)}</p>"
        )
    parts.append(
        "<nav>"
        + "".join(
            f"<a href='#{a}'>{t}</a>"
            for a, t in (
                ("summary", "Summary"),
                ("parameters", "Parameters"),
                ("combinations", "Combinations"),
                ("comparability", "Comparability"),
                ("distributions", "Columns"),
                ("coverage", "Coverage"),
                ("fidelity", "Fidelity"),
                ("privacy", "Privacy risk"),
                ("caveats", "Caveats"),
            )
        )
        + "</nav>"
    )
    return "\n".join(parts)


def _summary(m: dict[str, Any]) -> str:
    sizes = m.get("sizes", {})
    cards = []
    if sizes.get("protected_record_count") is not None:
        cards.append(("protected record count", _int(sizes["protected_record_count"])))
    if sizes.get("sensitive_records") is not None:
        cards.append(("sensitive records", _int(sizes["sensitive_records"])))
    if sizes.get("synthetic_records") is not None:
        cards.append(("synthetic records", _int(sizes["synthetic_records"])))
    if sizes.get("record_expansion") is not None:
        cards.append(("record expansion (synthetic / real)", f"{sizes['record_expansion']:.3f}"))
    comp = m.get("comparability")
    if comp:
        rows = comp["agreement_by_length"].values()
        released = sum(r["released"] for r in rows)
        agrees = sum(r["agrees"] for r in rows)
        if released:
            cards.append(
                (
                    f"released combinations where synthetic agrees (±{comp['tolerance']:.0%})",
                    _pct(agrees / released),
                )
            )
    combos = m.get("combinations", {})
    for key in ("sensitive_vs_synthetic", "sensitive_vs_protected", "protected_vs_synthetic"):
        if key in combos:
            cards.append(
                (
                    f"count preservation, {_charts.PAIR_NAMES[key]}",
                    _pct(combos[key]["preservation"]),
                )
            )
    fid = m.get("fidelity") or {}
    if "marginals" in fid and fid["marginals"].get("k_marginal_score") is not None:
        cards.append(("k-marginal score (0–1000)", f"{fid['marginals']['k_marginal_score']:.0f}"))
    cards += _nist_card(fid)
    if "propensity" in fid:
        cards.append(
            ("propensity pMSE (0 = indistinguishable)", f"{fid['propensity']['pmse']:.4f}")
        )
    priv = m.get("privacy") or {}
    if "matches" in priv:
        cards.append(
            (
                "synthetic records copying a unique real record",
                _int(priv["matches"]["unique_matches"]),
            )
        )
    audit = priv.get("membership_audit")
    if audit:
        eps = audit.get("epsilon")
        text = f"ε̂ ≥ {audit['epsilon_lower_bound']:.2f}" + (f" (stated ε = {eps:g})" if eps else "")
        cards.append(("membership audit", text))
    body = "".join(
        f"<div class='card'><div class='v'>{v}</div><div class='l'>{_e(label)}</div></div>"
        for label, v in cards
    )
    notes = "".join(f"<li>{_e(n)}</li>" for n in m.get("notes", []))
    return f"<h2 id='summary'>Summary</h2><div class='cards'>{body}</div>" + (
        f"<ul class='note'>{notes}</ul>" if notes else ""
    )


def _parameters(m: dict[str, Any]) -> str:
    rel = m.get("release", {})
    params = dict(rel.get("parameters", {}))
    lengths = params.pop("lengths", None)
    params.pop("guarantee", None)
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(_value(v))}</td></tr>"
        for k, v in params.items()
        if not isinstance(v, dict | list)
    )
    out = [
        "<h2 id='parameters'>Parameters</h2>",
        f"<p>Mode: <b>{_e(rel.get('mode', ''))}</b>; reporting length R = "
        f"{_e(rel.get('reporting_length'))}: counts were released for combinations of 1 to "
        f"{_e(rel.get('reporting_length'))} attributes. Counts below "
        f"{_e(m.get('resolution'))} are called rare below.</p>",
        f"<table>{rows}</table>",
    ]
    if isinstance(lengths, list) and lengths:
        keys = [
            k
            for k in (
                "length",
                "sigma",
                "sensitivity",
                "noise_scale",
                "threshold",
                "candidates",
                "passed_threshold",
                "released",
            )
            if any(k in e for e in lengths)
        ]
        head = "".join(f"<th>{_e(k)}</th>" for k in keys)
        body = "".join(
            "<tr>" + "".join(f"<td class='n'>{_e(_value(e.get(k)))}</td>" for k in keys) + "</tr>"
            for e in lengths
        )
        out.append(f"<h3>Per combination length</h3><table><tr>{head}</tr>{body}</table>")
        out.append(_threshold_zero_note(lengths))
    columns = rel.get("columns") or []
    out.append(f"<p class='note'>Columns ({len(columns)}): {_e(', '.join(columns))}</p>")
    return "\n".join(out)


def _combinations(m: dict[str, Any], charts: _Charts) -> str:
    combos = m.get("combinations") or {}
    out = ["<h2 id='combinations'>How combination counts survive</h2>"]
    if not combos:
        out.append("<p class='note'>No two sources of counts to compare.</p>")
        return "\n".join(out)
    out.append(
        "<p>A combination is a set of attributes from different columns (e.g. an age band "
        "<i>and</i> a duration); its count is how many records hold all of them. "
        "<b>Preservation</b> of a combination is its output count over its true (reference) "
        "count, capped at 100%. <b>Fabricated</b> combinations appear in the output but not "
        "in the reference (“intersectional hallucinations”); <b>suppressed</b> ones exist "
        "in the reference but are missing from the output.</p>"
    )
    out.append(charts.div("preservation_by_length"))
    out.append(charts.div("preservation_by_bucket"))
    out.append(charts.div("mean_counts"))
    for key, result in combos.items():
        out.append(charts.div(f"fabricated_suppressed:{key}"))
        out.append(_length_table(key, result, m.get("resolution")))
    return "\n".join(out)


def _length_table(key: str, result: dict[str, Any], resolution: Any) -> str:
    head = (
        "<tr><th>length</th><th>reference</th><th>output</th><th>fabricated</th>"
        "<th>suppressed</th><th>rare in output</th><th>preservation</th><th>count ratio</th>"
        "<th>mean error</th></tr>"
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{cell}</td>"
            for cell in (
                r["length"],
                _int(r["reference_combinations"]),
                _int(r["output_combinations"]),
                _int(r["fabricated"]),
                _int(r["suppressed"]),
                _int(r["rare_in_output"]),
            )
        )
        + f"<td class='n'>{_pct(r['preservation'])}</td>"
        f"<td class='n'>{r['count_ratio']:.3f}</td>"
        f"<td class='n'>{_pct(r['mean_proportional_error'])}</td></tr>"
        for r in result["by_length"]
    )
    leak = ""
    if result["reference"] == "sensitive":
        n = result["rare_in_output"]
        leak = (
            f"<p class='note'>Rare combinations (true count below {_e(resolution)}) that "
            f"appear in the output: <b class='{'bad' if n else 'ok'}'>{_int(n)}</b>. "
            "In a DP release such counts carry noise and are covered by the guarantee; in a "
            "k-anonymous one they should be zero.</p>"
        )
    return (
        f"<h3>{_e(_charts.PAIR_NAMES[key])}</h3><table>{head}{body}</table>"
        f"<p class='note'>Combination loss (mean over count buckets of 1 − preservation): "
        f"{_pct(result['combination_loss'])}.</p>{leak}"
    )


def _comparability(m: dict[str, Any], charts: _Charts) -> str:
    comp = m.get("comparability")
    out = ["<h2 id='comparability'>Data comparability: synthetic vs protected counts</h2>"]
    if not comp:
        out.append("<p class='note'>Needs both protected counts and synthetic records.</p>")
        return "\n".join(out)
    out.append(
        "<p>Counting synthetic records that hold a set of attributes gives a <i>synthetic "
        "count</i>; the release also holds the <i>protected count</i> of every released "
        "combination, which is the better evidence. Where they differ, use the protected "
        "count. For any selection, run <code>dpshowcase compare RELEASE_DIR --select "
        "column=value --select column=value</code>.</p>"
    )
    out.append(charts.div("agreement"))
    rows = comp.get("largest_disagreements") or []
    if not rows:
        out.append(
            "<p>No released combination disagrees: the synthetic records reproduce every "
            "protected count exactly.</p>"
        )
    if rows:
        body = "".join(
            f"<tr><td><code>{_e(r['combination'])}</code></td><td class='n'>{r['length']}</td>"
            f"<td class='n'>{_int(r['protected'])}</td><td class='n'>{_int(r['synthetic'])}</td>"
            f"<td class='n'>{r['difference']:+,}</td><td class='n'>{_ratio(r['ratio'])}</td></tr>"
            for r in rows
        )
        out.append(
            "<h3>Where synthetic and protected counts disagree most</h3><table><tr>"
            "<th>combination</th><th>length</th><th>protected</th><th>synthetic</th>"
            f"<th>difference</th><th>ratio</th></tr>{body}</table>"
        )
    return "\n".join(out)


def _distributions(m: dict[str, Any], charts: _Charts) -> str:
    dists = m.get("distributions") or {}
    out = ["<h2 id='distributions'>Columns: each value's share in every source</h2>"]
    if not dists:
        return ""
    out.append(
        "<p>Pick a column in the menu at the top right of the chart. Shares are of the "
        "values counted in the column (empty cells are not counted).</p>"
    )
    out.append(charts.div("distributions"))
    out.append(charts.div("column_tvd"))
    out.extend(charts.div(f"world_map:{column}") for column in m.get("map_columns") or [])
    return "\n".join(out)


def _coverage(m: dict[str, Any], charts: _Charts) -> str:
    cov = m.get("coverage") or {}
    out = [
        "<h2 id='coverage'>Coverage: whose records these are, and what is missing</h2>",
        "<p>The records describe people whom contributing organisations identified and "
        "recorded. Counts per country of exploitation and per data source show where "
        "organisations work and report as much as where harm happens.</p>",
    ]
    for column, data in (cov.get("columns") or {}).items():
        out.append(charts.div(f"coverage:{column}"))
        if data.get("suppressed_values"):
            out.append(
                f"<p class='note'>{_int(len(data['suppressed_values']))} values of "
                f"<code>{_e(column)}</code> found in the sensitive data were suppressed, "
                f"holding {_int(data['suppressed_records'])} records: "
                f"{_e(', '.join(data['suppressed_values'][:30]))}.</p>"
            )
    suppression = cov.get("suppression") or {}
    if suppression:
        has_sensitive = any(v.get("suppressed_values") is not None for v in suppression.values())
        head = (
            "<tr><th>column</th><th>released values</th>"
            + ("<th>suppressed values</th><th>records holding them</th>" if has_sensitive else "")
            + "<th>records with no released value</th></tr>"
        )
        body = ""
        for column, v in suppression.items():
            body += f"<tr><td>{_e(column)}</td><td class='n'>{_int(v['released_values'])}</td>"
            if has_sensitive:
                sv = v.get("suppressed_values")
                body += (
                    f"<td class='n'>{_int(len(sv)) if sv is not None else '—'}</td>"
                    f"<td class='n'>{_int(v.get('suppressed_records'))}</td>"
                )
            body += f"<td class='n'>{_int(v.get('unreleased_records'))}</td></tr>"
        out.append(
            f"<h3>What was suppressed, and why</h3><p>{_e(cov.get('why', ''))} “Records "
            "with no released value” are records whose cell in the column is empty or holds "
            "a suppressed value (protected record count minus the protected counts of the "
            "released values; noisy).</p>"
            f"<table>{head}{body}</table>"
        )
    return "\n".join(out)


def _fidelity(m: dict[str, Any], charts: _Charts) -> str:
    fid = m.get("fidelity")
    out = ["<h2 id='fidelity'>Distributional fidelity</h2>"]
    if not fid:
        out.append(
            "<p class='note'>Needs the sensitive data (dpshowcase evaluate --sensitive …).</p>"
        )
        return "\n".join(out)
    marg = fid.get("marginals")
    if marg:
        score = marg.get("k_marginal_score")
        out.append(
            "<p>For every set of 1, 2 or 3 columns, the <b>total variation distance</b> "
            "(TVD) is the largest difference in the share of records that any question about "
            "those columns can show between the sensitive and the synthetic data (0: "
            "identical; 1: nothing in common). The <b>NIST k-marginal score</b> is "
            "1000 × (1 − mean 3-way TVD)"
            + (f": <b>{score:.0f}</b>." if score is not None else ".")
            + "</p>"
        )
        out.append(charts.div("tvd_by_order"))
        worst = (marg.get("worst") or {}).get("3") or (marg.get("worst") or {}).get("2") or []
        if worst:
            body = "".join(
                f"<tr><td>{_e(', '.join(w['columns']))}</td><td class='n'>{w['tvd']:.3f}</td></tr>"
                for w in worst
            )
            out.append(
                "<h3>Least faithful marginals</h3><table><tr><th>columns</th><th>TVD</th></tr>"
                f"{body}</table>"
            )
    prop = fid.get("propensity")
    if prop:
        out.append(
            "<h3>Can a classifier tell synthetic from real records?</h3>"
            f"<p>pMSE = <b>{prop['pmse']:.4f}</b> (0: indistinguishable, 0.25: perfectly "
            f"separated; normalised {prop['pmse_normalised']:.3f}); AUC = "
            f"<b>{prop['auc']:.3f}</b> (0.5: chance). Model: {_e(prop['model'])}, "
            f"{_int(prop['records_per_table'])} records of each.</p>"
        )
    return "\n".join(out)


def _privacy(m: dict[str, Any], charts: _Charts) -> str:
    priv = m.get("privacy")
    out = ["<h2 id='privacy'>Privacy risk indicators</h2>"]
    if not priv:
        out.append(
            "<p class='note'>Needs the sensitive data (dpshowcase evaluate --sensitive …). "
            "The guarantee above holds whatever these indicators show.</p>"
        )
        return "\n".join(out)
    out.append(
        "<p>Indicators, not proofs: common records are shared by many people and say "
        "nothing about anyone, so copies of them are harmless; copies of records that are "
        "<i>unique</i> in the real data deserve a look.</p>"
    )
    mt = priv.get("matches")
    if mt:
        out.append(
            "<table>"
            + _row(
                "synthetic records identical to a real record",
                mt["exact_matches"],
                mt["exact_match_share"],
            )
            + _row(
                "… to a record unique in the real data",
                mt["unique_matches"],
                mt["unique_match_share"],
            )
            + _row(
                f"unique real records reproduced (of {_int(mt['sensitive_uniques'])})",
                mt["sensitive_uniques_matched"],
                mt["sensitive_uniques_matched_share"],
            )
            + "</table>"
        )
    if mt:
        out.append(_match_definitions(m))
    dcr = priv.get("distance_to_closest")
    if dcr:
        out.append(charts.div("dcr"))
        out.append(
            f"<p class='note'>Median distance: synthetic {dcr['synthetic_median']:g}, "
            f"baseline {dcr['baseline_median']:g} columns (of {dcr['columns']}). "
            f"Closer than baseline: {dcr['closer_than_baseline']:+.3f} (positive: synthetic "
            "records sit closer to real ones than real records to each other).</p>"
        )
    audit = priv.get("membership_audit")
    if audit:
        out.append(charts.div("audit_roc"))
        eps = audit.get("epsilon")
        verdict = ""
        if eps is not None:
            cls = "ok" if audit["consistent"] else "bad"
            word = "consistent with" if audit["consistent"] else "VIOLATES"
            verdict = (
                f" The attack's evidence, ε̂ ≥ {audit['epsilon_lower_bound']:.3f} at "
                f"{audit['confidence']:.0%} confidence, is <span class='{cls}'>{word}</span> "
                f"the stated ε = {eps:g}."
            )
        source = (
            "records held out from the release"
            if audit["source"] == "holdout"
            else "a fresh release of a random half of a sample, the other half held out"
        )
        out.append(
            f"<p>A membership-inference attack guesses that a record was in the data when a "
            f"synthetic record lies close to it. On {_int(audit['members'])} members and "
            f"{_int(audit['non_members'])} non-members ({source}) its best advantage "
            f"(TPR − FPR) is {audit['advantage']:.3f}.{verdict} An audit can refute a "
            "guarantee, never prove it: a weak attack finds little.</p>"
        )
    return "\n".join(out)


def _caveats(m: dict[str, Any]) -> str:
    r = m.get("release", {}).get("reporting_length", 3)
    items = [
        "<b>Synthetic records are not real people.</b> Each row is a statistical individual "
        "assembled from protected counts. Do not read a row as a case, do not look for anyone "
        "in it, and do not link it with other data.",
        _use_protected_counts(m),
        f"<b>Patterns among more than {r} attributes were never measured.</b> The synthetic "
        "data show them only by chance; no protected count backs them.",
        "<b>Small groups are suppressed or fabricated.</b> Rare combinations fall below the "
        "thresholds and disappear, while noise lifts a few absent ones above them: an absent "
        "combination does not mean nobody has it, a present one with a small count may not "
        "exist.",
        "<b>Who is in the data is who was identified.</b> Differences between countries, "
        "years or groups may reflect where organisations work and how they record, not where "
        "harm happens.",
        "<b>All counts are noisy.</b> Small counts carry relatively the most noise.",
    ]
    return (
        "<h2 id='caveats'>Caveats, in plain words</h2><ul>"
        + "".join(f"<li>{i}</li>" for i in items)
        + "</ul>"
    )


def _match_definitions(m: dict[str, Any]) -> str:
    """What "identical", "unique" and (k-anonymity) "held by k records" each mean."""
    text = (
        "<p class='note'><b>Identical</b> means equal in every column, empty cells "
        "included; a real record is <b>unique</b> when no other real record is identical "
        "to it."
    )
    if (m.get("release") or {}).get("mode") == "k-anonymity":
        text += (
            " k-anonymity speaks of something else: a synthetic record (or each of its "
            "combinations of up to R attributes) is <b>held by</b> at least k real records "
            "when each of them has all its attributes, and maybe more besides. So a "
            "synthetic record held by k real records can still be identical to one of them "
            "that is unique, because the others hold more attributes."
        )
    return text + "</p>"


def _reproduced_exactly(m: dict[str, Any]) -> bool:
    """The synthetic records reproduce every released count exactly."""
    comp = m.get("comparability") or {}
    rows = (comp.get("agreement_by_length") or {}).values()
    return (
        bool(comp)
        and not comp.get("largest_disagreements")
        and all(r["agrees"] == r["released"] for r in rows)
    )


def _use_protected_counts(m: dict[str, Any]) -> str:
    """The caveat on synthetic counts, as true of this release."""
    if _reproduced_exactly(m):
        return (
            "<b>Use the protected counts for figures.</b> The synthetic records reproduce "
            "every released count exactly, but any other count taken from them (a "
            "combination that was not released) has no protected count behind it."
        )
    return (
        "<b>Use the protected counts for figures.</b> Synthetic counts come close to them "
        "but do not all match; where they differ (see Data comparability) the protected "
        "count is the better evidence."
    )


THRESHOLD_ZERO = (
    "A threshold of 0 releases every candidate whose noisy count came out above 0: by the "
    "symmetry of the noise, also about half of the candidates that do not occur in the "
    "data at all."
)
"""What a threshold of 0 means, said wherever one is shown."""


def _threshold_zero_note(lengths: list[Any]) -> str:
    zero = [
        str(e.get("length"))
        for e in lengths
        if isinstance(e, dict) and isinstance(e.get("threshold"), int | float)
        and e["threshold"] <= 0
    ]
    if not zero:
        return ""
    return f"<p class='note'>Length {_e(', '.join(zero))}: {_e(THRESHOLD_ZERO)}</p>"


def _footer(m: dict[str, Any]) -> str:
    timings = m.get("timings") or {}
    spent = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
    return (
        f"<footer>Made by {_e(m.get('tool', 'dpshowcase'))} on {_e(m.get('created', ''))}. "
        "Every figure is in metrics.json beside this file."
        + (f" Timings: {_e(spent)}." if spent else "")
        + "</footer>"
    )


# --- formatting --------------------------------------------------------------------


def _row(label: str, count: Any, share: Any) -> str:
    return f"<tr><th>{_e(label)}</th><td class='n'>{_int(count)} ({_pct(share)})</td></tr>"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _int(value: Any) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}"


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * float(value):.1f}%"


def _ratio(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value):.2f}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
