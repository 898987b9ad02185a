// Data step: schema editor, value counts, preview and the live risk panel.
"use strict";

(function () {
  const datasetId = document.getElementById("page").dataset.dataset;
  const initial = JSON.parse(document.getElementById("dataset-json").textContent);
  const reports = Object.fromEntries(initial.reports.map((r) => [r.name, r]));
  const specs = Object.fromEntries(initial.schema.columns.map((c) => [c.name, c]));
  const tbody = document.querySelector("#schema-table tbody");
  const subject = document.getElementById("subject-id");
  const nulls = document.getElementById("null-values");
  const rows = {};

  subject.value = initial.schema.subject_id || "";
  nulls.value = (initial.schema.null_values || []).filter((v) => v !== "").join(", ");

  function kindSelect(kind) {
    const select = DPS.el("select", { class: "kind" },
      DPS.el("option", { value: "categorical", text: "categories" }),
      DPS.el("option", { value: "numeric", text: "numbers, binned" }),
      DPS.el("option", { value: "multi_value", text: "several values per cell" }));
    select.value = kind || "categorical";
    return select;
  }

  function detailsText(spec) {
    if (!spec) return "";
    if (spec.kind === "numeric") return spec.bins ? spec.bins.join(", ") : "";
    if (spec.kind === "multi_value") return spec.delimiter || ";";
    return "";
  }

  for (const name of initial.columns) {
    const spec = specs[name];
    const report = reports[name] || {};
    const use = DPS.el("input", { type: "checkbox", class: "use", checked: !!spec, "aria-label": "use " + name });
    const kind = kindSelect(spec ? spec.kind : (report.decision === "numeric" ? "numeric" : "categorical"));
    const details = DPS.el("input", { type: "text", class: "details", value: detailsText(spec) });
    const zero = DPS.el("input", { type: "checkbox", class: "zero", checked: !!(spec && spec.sensitive_zero) });
    const note = DPS.el("div", { class: "note" });
    if (report.identifier) note.append(DPS.el("span", { class: "badge warn", text: "looks like an identifier" }), " ");
    note.append(report.note || "");
    const valuesButton = DPS.el("button", { class: "link", type: "button", text: "values", onclick: () => showValues(name) });
    const tr = DPS.el("tr", { dataset: { column: name } },
      DPS.el("td", {}, use), DPS.el("td", { class: "name" }, DPS.el("span", { class: "column-name", text: name }), note), DPS.el("td", {}, kind),
      DPS.el("td", {}, details), DPS.el("td", { class: "center" }, zero),
      DPS.el("td", { class: "num", text: DPS.fmt(report.distinct) }),
      DPS.el("td", { class: "num", text: report.empty_share === undefined ? "" : DPS.pct(report.empty_share, 0) }),
      DPS.el("td", {}, valuesButton));
    rows[name] = { tr, use, kind, details, zero, identifier: !!report.identifier, spec };
    tbody.append(tr);
    const refresh = () => { updateRow(name); changed(); };
    for (const input of [use, kind, zero]) input.addEventListener("change", refresh);
    details.addEventListener("input", refresh);
    updateRow(name);
  }

  function updateRow(name) {
    const row = rows[name];
    const isSubject = subject.value === name;
    row.use.disabled = isSubject;
    row.tr.classList.toggle("unused", !row.use.checked || isSubject);
    const kind = row.kind.value;
    row.details.disabled = kind === "categorical";
    row.details.placeholder = kind === "numeric" ? "edges, e.g. 0, 18, 30, 65, 99 (empty: 5 equal groups)" : kind === "multi_value" ? ";" : "";
    row.zero.disabled = kind === "numeric";
    row.tr.classList.toggle("identifier-used", row.identifier && row.use.checked && !isSubject);
  }

  function currentSchema() {
    const columns = [];
    for (const name of initial.columns) {
      const row = rows[name];
      if (!row.use.checked || subject.value === name) continue;
      const spec = { name, kind: row.kind.value };
      if (row.zero.checked && spec.kind !== "numeric") spec.sensitive_zero = true;
      if (spec.kind === "numeric") {
        const edges = row.details.value.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
        if (edges.length) {
          spec.bins = edges;
          // Edges proposed from the data stay marked "inferred" (a DP release refuses them)
          // until the person changes them; edges typed here are the person's: "public".
          const proposed = row.spec && row.spec.kind === "numeric" && row.spec.bins ? row.spec : null;
          if (proposed && proposed.open_ended) spec.open_ended = true;
          spec.edges = proposed && proposed.edges && row.details.value === detailsText(proposed)
            ? proposed.edges : "public";
        } else spec.quantiles = 5;
      }
      if (spec.kind === "multi_value") spec.delimiter = row.details.value || ";";
      if (row.identifier) spec.allow_identifier = true;
      columns.push(spec);
    }
    const schema = { columns, null_values: ["", ...nulls.value.split(",").map((s) => s.trim()).filter((s) => s)] };
    if (subject.value) schema.subject_id = subject.value;
    return schema;
  }

  // -- saving -------------------------------------------------------------------------
  const schemaMessage = document.getElementById("schema-message");
  document.getElementById("save-schema").addEventListener("click", async () => {
    DPS.say(schemaMessage, "Checking the columns against the data…", "busy");
    try {
      const result = await DPS.api("PUT", `/api/datasets/${datasetId}/schema`, currentSchema());
      const n = Object.values(result.attributes).reduce((a, b) => a + b, 0);
      DPS.say(schemaMessage, `Saved: ${result.schema.columns.length} columns, ${DPS.fmt(n)} attributes, ${DPS.fmt(result.records)} records.`, "ok");
    } catch (error) {
      DPS.say(schemaMessage, error.message, "error");
    }
  });
  subject.addEventListener("change", () => { Object.keys(rows).forEach(updateRow); changed(); });
  nulls.addEventListener("input", () => changed());

  // -- value counts -------------------------------------------------------------------
  async function showValues(name) {
    const box = document.getElementById("values");
    document.getElementById("values-column").textContent = name;
    box.replaceChildren(DPS.el("p", { class: "hint", text: "Loading…" }));
    try {
      const data = await DPS.api("GET", `/api/datasets/${datasetId}/values?column=${encodeURIComponent(name)}`);
      const top = data.values.length ? data.values[0].count : 1;
      document.getElementById("values-hint").textContent =
        `${DPS.fmt(data.distinct)} distinct values; ${DPS.fmt(data.empty)} of ${DPS.fmt(data.rows)} cells empty` +
        (data.distinct > data.values.length ? `; the ${data.values.length} most frequent are shown.` : ".");
      box.replaceChildren(...data.values.map((v) => DPS.el("div", { class: "bar-row" },
        DPS.el("span", { class: "bar-label", text: v.value, title: v.value }), DPS.bar(v.count / top, "neutral"),
        DPS.el("span", { class: "bar-value", text: DPS.fmt(v.count) }))));
      document.getElementById("values-card").scrollIntoView({ behavior: "smooth", block: "nearest" });
    } catch (error) {
      box.replaceChildren(DPS.el("p", { class: "message error", text: error.message }));
    }
  }

  // -- preview ------------------------------------------------------------------------
  (async function preview() {
    const table = document.getElementById("preview");
    const data = await DPS.api("GET", `/api/datasets/${datasetId}/preview`);
    table.querySelector("thead").replaceChildren(DPS.el("tr", {}, data.columns.map((c) => DPS.el("th", { text: c }))));
    table.querySelector("tbody").replaceChildren(...data.rows.map((r) => DPS.el("tr", {}, r.map((v) => DPS.el("td", { text: v === null ? "" : v })))));
  })();

  // -- risk ---------------------------------------------------------------------------
  const riskK = document.getElementById("risk-k");
  const riskR = document.getElementById("risk-r");
  const riskMessage = document.getElementById("risk-message");
  let riskSerial = 0;

  async function updateRisk() {
    const serial = ++riskSerial;
    const schema = currentSchema();
    if (!schema.columns.length) { DPS.say(riskMessage, "Choose at least one column.", "error"); return; }
    DPS.say(riskMessage, "Computing…", "busy");
    document.getElementById("risk").classList.add("stale");
    try {
      const data = await DPS.api("POST", `/api/datasets/${datasetId}/risk`, {
        schema, resolution: Number(riskK.value), reporting_length: Number(riskR.value),
      });
      if (serial !== riskSerial) return;
      document.getElementById("risk").classList.remove("stale");
      document.getElementById("risk-share").textContent = DPS.pct(data.share);
      document.getElementById("risk-count").textContent =
        ` of records linkable (${DPS.fmt(data.linkable)} of ${DPS.fmt(data.records)}) by combinations of up to ${data.reporting_length} attributes held by fewer than ${data.resolution} records`;
      document.getElementById("risk-meter").style.width = (100 * data.share) + "%";
      const top = data.records || 1;
      document.getElementById("risk-columns").replaceChildren(...data.columns.filter((c) => c.records > 0).slice(0, 8).map((c) =>
        DPS.el("div", { class: "bar-row" }, DPS.el("span", { class: "bar-label", text: c.name, title: c.name }),
          DPS.bar(c.records / top, "risk"), DPS.el("span", { class: "bar-value", text: DPS.fmt(c.records) }))));
      document.getElementById("risk-attributes").replaceChildren(...data.attributes.slice(0, 8).map((a) =>
        DPS.el("div", { class: "bar-row" }, DPS.el("span", { class: "bar-label", text: a.label, title: a.label }),
          DPS.bar(a.records / top, "risk"), DPS.el("span", { class: "bar-value", text: DPS.fmt(a.records) }))));
      DPS.say(riskMessage, data.linkable ? "Untick or bin the columns at the top of these lists to lower the risk." : "No record is linkable at this resolution.", "");
    } catch (error) {
      if (serial === riskSerial) DPS.say(riskMessage, error.message, "error");
    }
  }
  const changed = DPS.debounce(updateRisk, 600);
  riskK.addEventListener("input", changed);
  riskR.addEventListener("change", changed);
  updateRisk();

  // -- delete -------------------------------------------------------------------------
  document.getElementById("delete-dataset").addEventListener("click", async () => {
    const releases = document.getElementById("delete-releases").checked;
    if (!window.confirm("Delete the uploaded data" + (releases ? " and its releases" : "") + "? This cannot be undone.")) return;
    try {
      await DPS.api("DELETE", `/api/datasets/${datasetId}?releases=${releases}`);
      window.location.href = "/";
    } catch (error) {
      window.alert(error.message);
    }
  });
})();
