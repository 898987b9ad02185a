// Evaluate: every finished run's comparison of synthetic with protected counts, side by side.
"use strict";

(function () {
  const datasetId = document.getElementById("page").dataset.dataset;

  async function load() {
    const runs = (await DPS.api("GET", `/api/runs?dataset_id=${datasetId}`)).filter((r) => r.status === "done");
    document.getElementById("no-runs").classList.toggle("hidden", runs.length > 0);
    if (!runs.length) return;
    const evaluations = await Promise.all(runs.map((r) => DPS.api("GET", `/api/runs/${r.id}/evaluation`)));
    const header = DPS.el("tr", {}, DPS.el("th", { text: "" }), runs.map((r) =>
      DPS.el("th", {}, DPS.el("a", { href: `/runs/${r.id}/navigate`, text: r.params.label }),
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

    const chart = document.getElementById("chart");
    const groups = [];
    for (let k = 1; k <= maxR; k++) {
      groups.push(DPS.el("div", { class: "group" }, DPS.el("h3", { text: `length ${k}` }),
        runs.map((r, i) => {
          const l = evaluations[i].lengths.find((x) => x.length === k);
          const v = l ? l.within_10_percent : 0;
          return DPS.el("div", { class: "bar-row" }, DPS.el("span", { class: "bar-label", text: r.params.label }),
            DPS.bar(v, "run" + (i % 6)), DPS.el("span", { class: "bar-value", text: DPS.pct(v) }));
        })));
    }
    chart.replaceChildren(...groups);
  }
  load().catch((error) => document.getElementById("comparison").replaceChildren(DPS.el("p", { class: "message error", text: error.message })));
})();
