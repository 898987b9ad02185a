// Evaluate: every finished run's comparison of synthetic with protected counts, side by
// side, and the charts of each run's evaluation report drawn with Plotly (served by the
// app) from /api/runs/{id}/figures: one row per chart, one column per run.
"use strict";

(function () {
  const datasetId = document.getElementById("page").dataset.dataset;
  const SECTIONS = {
    combinations: "How combination counts survive",
    comparability: "Data comparability: synthetic vs protected counts",
    distributions: "Columns: each value's share in every source",
    coverage: "Coverage: whose records these are",
    fidelity: "Distributional fidelity",
    privacy: "Privacy risk indicators",
  };

  // Plotly's colour bars clear their rectangles with setAttribute("style", ""), which the
  // page's CSP (no inline styles) blocks and reports; removing the attribute does the same
  // and is allowed.
  const setAttribute = SVGRectElement.prototype.setAttribute;
  SVGRectElement.prototype.setAttribute = function (name, value) {
    if (name === "style" && value === "") return this.removeAttribute("style");
    return setAttribute.call(this, name, value);
  };

  function table(runs, evaluations) {
    const header = DPS.el("tr", {}, DPS.el("th", { text: "" }), runs.map((r, i) =>
      DPS.el("th", {}, DPS.el("span", { class: "run-key run" + (i % 6) }), DPS.el("a", { href: `/runs/${r.id}/navigate`, text: r.params.label }),
        r.params.mode === "dp" && r.params.seed !== null && r.params.seed !== undefined ? DPS.el("span", { class: "badge warn", text: "seeded" }) : null)));
    const rows = [];
    const row = (label, values, cls) => rows.push(DPS.el("tr", { class: cls || "" }, DPS.el("th", { text: label }), values.map((v) => DPS.el("td", { class: "num", text: v }))));
    row("Protected record count", evaluations.map((e) => DPS.fmt(e.protected_record_count)));
    row("Synthetic records", evaluations.map((e) => DPS.fmt(e.synthetic_records)));
    row("Time to make", runs.map((r) => r.seconds ? r.seconds.toFixed(1) + " s" : "–"));
    rows.push(DPS.el("tr", {}, DPS.el("th", { text: "Full evaluation report" }), runs.map((r, i) =>
      DPS.el("td", { class: "num" }, evaluations[i].report
        ? DPS.el("a", { href: `/api/runs/${r.id}/files/report.html`, download: true, text: "report.html" })
        : "–"))));
    const maxR = Math.max(...evaluations.map((e) => e.reporting_length));
    for (let k = 1; k <= maxR; k++) {
      const at = (e) => e.lengths.find((l) => l.length === k);
      rows.push(DPS.el("tr", { class: "group" }, DPS.el("th", { colspan: runs.length + 1, text: `Combinations of ${k} attribute${k > 1 ? "s" : ""}` })));
      row("released", evaluations.map((e) => at(e) ? DPS.fmt(at(e).released) : "–"));
      row("within 10%", evaluations.map((e) => at(e) ? DPS.pct(at(e).within_10_percent) : "–"));
      row("mean relative error", evaluations.map((e) => at(e) ? DPS.pct(at(e).mean_relative_error) : "–"));
      row("mean absolute error", evaluations.map((e) => at(e) ? at(e).mean_absolute_error.toFixed(1) : "–"));
      row("fabricated (not released)", evaluations.map((e) => at(e) ? DPS.fmt(at(e).fabricated) : "–"));
      row("released but absent", evaluations.map((e) => at(e) ? DPS.fmt(at(e).missing) : "–"));
    }
    document.getElementById("comparison").replaceChildren(DPS.el("table", { class: "compare", id: "compare-table" }, DPS.el("thead", {}, header), DPS.el("tbody", {}, rows)));
  }

  function plot(node, figure, config) {
    return Plotly.newPlot(node, figure.data, figure.layout, config);
  }

  async function comparisonCharts() {
    const body = await DPS.api("GET", `/api/datasets/${datasetId}/figures`);
    const holder = document.getElementById("comparison-charts");
    const nodes = body.figures.map(() => DPS.el("div", { class: "plot" }));
    holder.replaceChildren(...nodes);
    for (let i = 0; i < nodes.length; i++) await plot(nodes[i], body.figures[i].figure, body.config);
  }

  // one row per chart (in the reports' order), one cell per run, under section headings
  async function reportCharts(runs) {
    const message = document.getElementById("charts-message");
    DPS.say(message, "Drawing the reports' charts…", "busy");
    const reports = await Promise.all(runs.map((r) => DPS.api("GET", `/api/runs/${r.id}/figures`).catch((error) => ({ error }))));
    const keys = [];
    const sectionOf = {};
    for (const report of reports) {
      for (const f of report.figures || []) {
        if (!(f.key in sectionOf)) { keys.push(f.key); sectionOf[f.key] = f.section; }
      }
    }
    const holder = document.getElementById("report-charts");
    const pending = [];
    const blocks = [];
    let section = null;
    for (const key of keys) {
      if (sectionOf[key] !== section) {
        section = sectionOf[key];
        blocks.push(DPS.el("h2", { class: "chart-section", text: SECTIONS[section] || section }));
      }
      blocks.push(DPS.el("div", { class: "chart-row", dataset: { chart: key } }, runs.map((r, i) => {
        const caption = DPS.el("div", { class: "chart-run" }, DPS.el("span", { class: "run-key run" + (i % 6) }), r.params.label);
        if (reports[i].error) return DPS.el("div", { class: "chart-cell" }, caption, DPS.el("p", { class: "message error", text: reports[i].error.message }));
        const figure = reports[i].figures.find((f) => f.key === key);
        if (!figure) return DPS.el("div", { class: "chart-cell" }, caption, DPS.el("p", { class: "hint", text: "Not in this run's report." }));
        const node = DPS.el("div", { class: "plot" });
        pending.push([node, figure.figure, reports[i].config]);
        return DPS.el("div", { class: "chart-cell" }, caption, node);
      })));
    }
    holder.replaceChildren(...blocks);
    for (const [node, figure, config] of pending) await plot(node, figure, config);
    DPS.say(message, keys.length ? "" : "No report charts: the releases were made without an evaluation.");
  }

  async function load() {
    const runs = (await DPS.api("GET", `/api/runs?dataset_id=${datasetId}`)).filter((r) => r.status === "done");
    document.getElementById("no-runs").classList.toggle("hidden", runs.length > 0);
    if (!runs.length) return;
    for (const id of ["across", "reports"]) document.getElementById(id).classList.remove("hidden");
    const evaluations = await Promise.all(runs.map((r) => DPS.api("GET", `/api/runs/${r.id}/evaluation`)));
    table(runs, evaluations);
    await comparisonCharts();
    await reportCharts(runs);
  }

  load()
    .catch((error) => document.getElementById("comparison").append(DPS.el("p", { class: "message error", text: error.message })))
    .finally(() => { document.body.dataset.charts = "drawn"; });
})();
