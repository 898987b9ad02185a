// Shared helpers: API calls with the CSRF token, number formats, safe element building.
"use strict";

const DPS = {
  token() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  },

  async api(method, url, body) {
    const options = { method, headers: { "X-CSRF-Token": DPS.token() }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    if (!response.ok) {
      const error = new Error((data && data.detail) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  },

  fmt(n) {
    if (n === null || n === undefined) return "–";
    return Number(n).toLocaleString("en-US");
  },

  pct(x, digits) {
    if (x === null || x === undefined) return "–";
    return (100 * x).toFixed(digits === undefined ? 1 : digits) + "%";
  },

  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  // a horizontal bar: width set through the CSSOM (allowed by the CSP)
  bar(fraction, cls) {
    const fill = DPS.el("span", { class: "fill " + (cls || "") });
    fill.style.width = Math.max(0, Math.min(1, fraction || 0)) * 100 + "%";
    return DPS.el("span", { class: "track" }, fill);
  },

  say(node, text, kind) {
    node.textContent = text || "";
    node.classList.remove("error", "ok", "busy");
    if (kind) node.classList.add(kind);
  },

  debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  },
};
