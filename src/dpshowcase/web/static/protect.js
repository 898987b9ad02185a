// Protect & synthesize: start runs, follow their progress, cancel them.
"use strict";

(function () {
  const datasetId = document.getElementById("page").dataset.dataset;
  const form = document.getElementById("run-form");
  const message = document.getElementById("run-message");
  const grid = document.getElementById("runs");
  const seedWarning = document.getElementById("seed-warning");
  let timer = null;

  function showMode() {
    const dp = form.elements.mode.value === "dp";
    document.getElementById("dp-fields").classList.toggle("hidden", !dp);
    document.getElementById("dp-advanced").classList.toggle("hidden", !dp);
    document.getElementById("k-fields").classList.toggle("hidden", dp);
  }
  for (const radio of form.querySelectorAll("input[name=mode]")) radio.addEventListener("change", showMode);
  showMode();

  form.elements.seed.addEventListener("input", () => {
    seedWarning.classList.toggle("hidden", form.elements.seed.value === "");
  });

  function number(name) {
    const value = form.elements[name].value.trim();
    return value === "" ? null : Number(value);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const advanced = {
      percentile_percentage: number("percentile_percentage"),
      percentile_epsilon_proportion: number("percentile_epsilon_proportion"),
      number_of_records_epsilon_proportion: number("number_of_records_epsilon_proportion"),
      sigma_proportions: form.elements.sigma_proportions.value,
    };
    const factors = form.elements.adaptive_factors.value.split(",").map((s) => s.trim()).filter((s) => s);
    if (factors.length) advanced.adaptive_factors = factors.map(Number);
    const common = { reporting_length: Number(form.elements.reporting_length.value), seed: number("seed"),
      lineage: form.elements.lineage.value.trim() || null };
    const body = form.elements.mode.value === "dp"
      ? { mode: "dp", epsilon: number("epsilon"), delta: number("delta"), advanced,
          fabrication_weight: number("fabrication_weight"), row_share: number("row_share"), ...common }
      : { mode: "k-anonymity", k: number("k"), k_synthesizer: form.elements.k_synthesizer.value, ...common };
    DPS.say(message, "Starting…", "busy");
    try {
      await DPS.api("POST", `/api/datasets/${datasetId}/runs`, body);
      DPS.say(message, "Started: follow it on the right.", "ok");
      refresh();
    } catch (error) {
      DPS.say(message, error.message, "error");
    }
  });

  function card(run) {
    const dp = run.params.dp;
    const active = run.status === "queued" || run.status === "running";
    const title = DPS.el("h3", {}, run.params.label,
      run.params.mode === "dp" && run.params.seed !== null && run.params.seed !== undefined ? DPS.el("span", { class: "badge warn", text: "seeded" }) : null);
    const status = DPS.el("p", {}, DPS.el("span", { class: "status " + run.status, text: run.status }),
      " ", DPS.el("span", { class: "stage", text: active ? run.stage : "" }));
    const bar = DPS.el("div", { class: "progress" + (active ? "" : " hidden") }, DPS.el("div", { class: "bar" }));
    bar.firstChild.style.width = (100 * (run.progress || 0)) + "%";
    const body = DPS.el("div", { class: "run-card " + run.status, dataset: { run: run.id } }, title, status, bar);
    body.append(DPS.el("p", { class: "hint", text: (dp ? `δ = ${dp.delta === null ? "automatic" : dp.delta}` : "k-anonymity") + ` · started ${run.created.slice(0, 19).replace("T", " ")}` + (run.seconds ? ` · ${run.seconds.toFixed(1)} s` : "") }));
    if (active) {
      body.append(DPS.el("button", { class: "cancel", type: "button", text: "Cancel", onclick: async () => {
        try { await DPS.api("POST", `/api/runs/${run.id}/cancel`); } catch (error) { window.alert(error.message); }
        refresh();
      } }));
    }
    if (run.status === "failed" && run.message) body.append(DPS.el("p", { class: "message error", text: run.message }));
    if (run.status === "done" && run.release) {
      const r = run.release;
      body.append(DPS.el("dl", { class: "facts" },
        DPS.el("dt", { text: "Synthetic records" }), DPS.el("dd", { text: DPS.fmt(r.synthetic_rows) }),
        DPS.el("dt", { text: "Protected combinations" }), DPS.el("dd", { text: DPS.fmt(r.combinations) })));
      if (!r.private) body.append(DPS.el("p", { class: "badge warn", text: "NOT FOR RELEASE: seeded noise" }));
      body.append(DPS.el("div", { class: "links" },
        DPS.el("a", { class: "button", href: `/datasets/${datasetId}/evaluate`, text: "Evaluate" }),
        DPS.el("a", { class: "button primary navigate", href: `/runs/${run.id}/navigate`, text: "Navigate" }),
        DPS.el("a", { class: "button", href: `/api/runs/${run.id}/bundle.zip`, download: true, text: "Download .zip" })));
    }
    if (!active) {
      body.append(DPS.el("button", { class: "link danger-link", type: "button", text: "Delete run", onclick: async () => {
        if (!window.confirm("Delete this run and its release?")) return;
        await DPS.api("DELETE", `/api/runs/${run.id}`);
        refresh();
      } }));
    }
    return body;
  }

  async function refresh() {
    clearTimeout(timer);
    let runs = [];
    try {
      runs = await DPS.api("GET", `/api/runs?dataset_id=${datasetId}`);
    } catch (error) {
      DPS.say(message, error.message, "error");
    }
    grid.replaceChildren(...runs.map(card));
    document.getElementById("no-runs").classList.toggle("hidden", runs.length > 0);
    if (runs.some((r) => r.status === "queued" || r.status === "running")) timer = setTimeout(refresh, 500);
  }
  refresh();
})();
