// Navigate: select attributes across columns; synthetic vs protected counts per column; world map.
"use strict";

(function () {
  const page = document.getElementById("page");
  if (page.dataset.status !== "done") return;
  const runId = page.dataset.run;
  const selection = [];
  const expanded = new Set();
  let mapTemplate = null;
  let last = null;

  const same = (a, b) => a[0] === b[0] && a[1] === b[1];
  function toggle(column, value) {
    const i = selection.findIndex((s) => same(s, [column, value]));
    if (i >= 0) selection.splice(i, 1); else {
      for (let j = selection.length - 1; j >= 0; j--) {  // one value per single-valued column
        if (selection[j][0] === column && !last?.multi?.has(column)) selection.splice(j, 1);
      }
      selection.push([column, value]);
    }
    load();
  }

  function chips() {
    const box = document.getElementById("chips");
    if (!selection.length) {
      box.replaceChildren(DPS.el("span", { class: "hint", text: "Nothing selected: the counts below are for all records." }));
      return;
    }
    box.replaceChildren(...selection.map(([c, v]) => DPS.el("button", { class: "chip", type: "button", title: "remove",
      dataset: { column: c, value: v }, onclick: () => toggle(c, v) }, `${c} = ${v}`, DPS.el("span", { class: "x", text: "×" }))),
      DPS.el("button", { class: "link", type: "button", text: "clear", onclick: () => { selection.length = 0; load(); } }));
  }

  function figure(data) {
    document.getElementById("fig-synthetic").textContent = DPS.fmt(data.synthetic);
    document.getElementById("fig-protected").textContent = data.protected === null ? "not released" : DPS.fmt(data.protected);
    const gap = document.getElementById("fig-gap");
    gap.textContent = data.gap === null ? "–" : (data.gap > 0 ? "+" : "") + DPS.pct(data.gap);
    gap.classList.toggle("bad", data.gap !== null && Math.abs(data.gap) > 0.2);
    const note = document.getElementById("fig-note");
    if (!selection.length) note.textContent = "All records: the protected count is the protected number of records.";
    else if (data.protected === null) note.textContent = `The selection has more than R = ${data.reporting_length} attributes: the release has no protected count for it, only the synthetic records.`;
    else if (data.protected === 0) note.textContent = "This combination is not in the release (its noisy count fell below the threshold).";
    else note.textContent = `Data comparability: the synthetic records hold the selection ${DPS.fmt(data.synthetic)} times; the protected count is ${DPS.fmt(data.protected)}.`;
  }

  function columnCard(column) {
    const values = column.values.slice();
    const top = Math.max(1, ...values.map((v) => Math.max(v.synthetic, v.protected || 0)));
    const long = values.length > 12 && !expanded.has(column.name);
    const shown = long ? values.slice().sort((a, b) => b.synthetic - a.synthetic).slice(0, 12) : values;
    const rows = shown.map((v) => {
      const selected = selection.some((s) => same(s, [column.name, v.value]));
      return DPS.el("div", { class: "pair-row" + (selected ? " selected" : ""), dataset: { column: column.name, value: v.value },
        title: "add to the selection", onclick: () => toggle(column.name, v.value) },
        DPS.el("span", { class: "bar-label", text: v.value, title: v.value }),
        DPS.el("span", { class: "pair" },
          DPS.el("span", { class: "line" }, DPS.bar(v.synthetic / top, "syn"), DPS.el("span", { class: "syn-count", text: DPS.fmt(v.synthetic) })),
          DPS.el("span", { class: "line" }, v.protected === null ? DPS.el("span", { class: "track empty" }) : DPS.bar(v.protected / top, "prot"),
            DPS.el("span", { class: "prot-count", text: v.protected === null ? "beyond R" : DPS.fmt(v.protected) }))));
    });
    const more = values.length > 12 ? DPS.el("button", { class: "link", type: "button",
      text: expanded.has(column.name) ? "show the top 12" : `show all ${values.length} values`,
      onclick: () => { expanded.has(column.name) ? expanded.delete(column.name) : expanded.add(column.name); render(last); } }) : null;
    return DPS.el("section", { class: "card column-card", dataset: { column: column.name } },
      DPS.el("h3", { text: column.name }), rows.length ? rows : DPS.el("p", { class: "hint", text: "No values." }), more);
  }

  function colour(fraction) {
    const t = Math.sqrt(Math.max(0, Math.min(1, fraction)));
    const from = [232, 238, 247], to = [31, 78, 156];
    const c = from.map((f, i) => Math.round(f + (to[i] - f) * t));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  async function maps(data) {
    const box = document.getElementById("maps");
    if (!data.maps.length) { box.replaceChildren(); return; }
    if (!mapTemplate) {
      const text = await (await fetch("/static/worldmap.svg")).text();
      mapTemplate = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    }
    const cards = data.maps.map((m) => {
      const column = data.columns.find((c) => c.name === m.column);
      const counts = Object.fromEntries((column ? column.values : []).map((v) => [v.value, v]));
      const top = Math.max(1, ...Object.values(counts).map((v) => v.synthetic));
      const svg = document.importNode(mapTemplate, true);
      svg.setAttribute("class", "worldmap");
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", `World map of ${m.column}`);
      for (const [iso3, iso2] of Object.entries(m.codes)) {
        const v = counts[iso3];
        svg.querySelectorAll(`g.${iso2.toLowerCase()}`).forEach((g) => {
          if (v) g.style.fill = colour(v.synthetic / top);
          g.classList.add("has-data");
          if (selection.some((s) => same(s, [m.column, iso3]))) g.classList.add("selected");
          const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
          title.textContent = `${iso3}: ${v ? DPS.fmt(v.synthetic) : 0} synthetic, ${v && v.protected !== null ? DPS.fmt(v.protected) : "–"} protected`;
          g.append(title);
          g.addEventListener("click", () => toggle(m.column, iso3));
        });
      }
      return DPS.el("section", { class: "card map-card", dataset: { column: m.column } },
        DPS.el("h3", { text: `${m.column} — synthetic records for the selection` }), svg,
        DPS.el("p", { class: "hint", text: "Darker: more records. Hover a country for its counts; click it to select it." }));
    });
    box.replaceChildren(...cards);
  }

  function render(data) {
    chips();
    figure(data);
    const filter = document.getElementById("column-filter").value.trim().toLowerCase();
    const columns = data.columns.filter((c) => !filter || c.name.toLowerCase().includes(filter));
    document.getElementById("columns").replaceChildren(...columns.map(columnCard));
  }

  async function load() {
    document.body.classList.add("loading");
    try {
      const data = await DPS.api("POST", `/api/runs/${runId}/navigate`, { selection });
      data.multi = new Set(data.multi_value);
      last = data;
      render(data);
      await maps(data);
      document.body.dataset.ready = String(Date.now());
    } catch (error) {
      document.getElementById("fig-note").textContent = error.message;
    } finally {
      document.body.classList.remove("loading");
    }
  }
  document.getElementById("column-filter").addEventListener("input", () => last && render(last));
  load();
})();
