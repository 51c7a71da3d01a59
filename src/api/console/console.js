// The security log console: plain JavaScript over the read API next to this page.
//
// Every value from the log reaches the page through textContent or an SVG text node, never as
// HTML; the page's Content-Security-Policy allows no inline script and no other origin.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2257c5", "#d1495b", "#edae49", "#00798c", "#66a182", "#8e6c8a",
    "#f28e2b", "#4e79a7", "#9c755f", "#bab0ac", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"];
  const colours = new Map();
  let cursor = null;
  let selectedRow = null;

  function colour(category) {
    if (!colours.has(category)) colours.set(category, PALETTE[colours.size % PALETTE.length]);
    return colours.get(category);
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function svg(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    return node;
  }

  function list(text) {
    return text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  }

  // The filter bar as the API's parameters (named as Lago names them).
  function filterParams() {
    const params = new URLSearchParams();
    const time = (value) => value.replace("T", " ");
    if ($("from").value) params.set("from_date", time($("from").value));
    if ($("to").value) params.set("to_date", time($("to").value));
    for (const user of list($("users").value)) params.append("user_ids[]", user);
    for (const type of list($("types").value)) params.append("log_types[]", type);
    for (const event of list($("events").value)) params.append("log_events[]", event);
    if ($("outcome").value) params.set("outcome", $("outcome").value);
    if ($("q").value.trim()) params.set("q", $("q").value);
    return params;
  }

  function status(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  async function api(path, params) {
    const response = await fetch(path + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const error = (body && body.error) || { message: response.statusText };
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function showError(error) {
    if (error.parameter === "q" && error.column) {
      // The query under its error, with a caret at the column.
      const query = $("q").value;
      const caret = " ".repeat(Math.max(0, error.column - 1)) + "^";
      $("query-error").textContent = query + "\n" + caret + "\ncolumn " + error.column + ": " + error.message;
      $("query-error").hidden = false;
      status("The query has an error.", true);
    } else if (error.parameter) {
      $("query-error").textContent = error.parameter + ": " + error.message;
      $("query-error").hidden = false;
      status("A filter has an error.", true);
    } else if (error.status === 401) {
      status("Sign in to read the security log.", true);
    } else if (error.status === 403) {
      status("You are not allowed to read the security log.", true);
    } else {
      status(error.message || "The security log could not be read.", true);
    }
  }

  function cell(row, text, className) {
    const td = el("td", text === undefined || text === null ? "" : text, className);
    td.title = td.textContent;
    row.appendChild(td);
  }

  function actorOf(record) {
    const actor = record.actor || {};
    return actor.name || actor.email || actor.id || actor.anonymous_id || "";
  }

  function addRows(records) {
    const body = $("records").tBodies[0];
    for (const record of records) {
      const row = document.createElement("tr");
      const event = record.event || {};
      const client = record.client || {};
      cell(row, (record.timestamp || "").replace("T", " ").replace(/\.\d+Z$/, "Z"));
      cell(row, event.name);
      cell(row, event.outcome, event.outcome);
      cell(row, actorOf(record));
      cell(row, (record.tenant || {}).id);
      cell(row, [client.ip, client.geo && client.geo.country].filter(Boolean).join(" · "));
      cell(row, record.message);
      row.dataset.id = record.id;
      row.addEventListener("click", () => showRecord(record, row));
      body.appendChild(row);
    }
  }

  function showRecord(record, row) {
    if (selectedRow) selectedRow.classList.remove("selected");
    selectedRow = row;
    row.classList.add("selected");
    $("detail").hidden = false;
    document.querySelector("main").classList.add("with-detail");
    $("detail-title").textContent = (record.event || {}).name + " · " + record.timestamp;
    const changes = $("changes");
    const body = changes.tBodies[0];
    body.replaceChildren();
    const diff = record.changes || {};
    for (const [field, change] of Object.entries(diff)) {
      const tr = document.createElement("tr");
      tr.appendChild(el("td", field));
      tr.appendChild(el("td", render(change && change.old), "old"));
      tr.appendChild(el("td", render(change && change.new), "new"));
      body.appendChild(tr);
    }
    changes.hidden = Object.keys(diff).length === 0;
    $("record").textContent = JSON.stringify(record, null, 2);
  }

  function render(value) {
    if (value === undefined) return "(none)";
    if (Array.isArray(value) && value.every((v) => typeof v !== "object")) return value.join(", ");
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  async function loadPage(params) {
    const page = await api("security_logs", params);
    addRows(page.security_logs);
    showWarnings(page.warnings || []);
    cursor = page.meta.next_cursor;
    $("more").hidden = !cursor;
    const shown = $("records").tBodies[0].rows.length;
    const total = page.meta.total_count;
    $("end").textContent = total === undefined
      ? shown + " shown"
      : shown + " of " + total + " shown" + (shown >= total ? "" : "");
    return page;
  }

  // Names no catalog holds: the answer may be empty for a misspelling, so say so.
  function showWarnings(warnings) {
    $("query-warnings").textContent = warnings.map((w) => "Warning: " + w.message).join("\n");
    $("query-warnings").hidden = warnings.length === 0;
  }

  async function search() {
    $("query-error").hidden = true;
    $("query-warnings").hidden = true;
    $("records").tBodies[0].replaceChildren();
    $("detail").hidden = true;
    document.querySelector("main").classList.remove("with-detail");
    const params = filterParams();
    $("export").href = "security_logs/export?" + withFormat(params, "csv").toString();
    status("Loading…");
    try {
      const first = new URLSearchParams(params);
      first.set("per_page", "50");
      first.set("count", "true");
      await loadPage(first);
      await Promise.all([timeChart(params), countryChart(params)]);
      status("");
    } catch (error) {
      showError(error);
    }
  }

  function withFormat(params, format) {
    const copy = new URLSearchParams(params);
    copy.set("format", format);
    return copy;
  }

  async function more() {
    if (!cursor) return;
    const params = filterParams();
    params.set("per_page", "50");
    params.set("cursor", cursor);
    try {
      await loadPage(params);
    } catch (error) {
      showError(error);
    }
  }

  // Events over time, one bar per bucket, stacked by category.
  async function timeChart(params) {
    let every = "1h";
    let stats = await api("security_logs/stats", statsParams(params, ["category"], every));
    const starts = stats.buckets.map((b) => Date.parse(b.start));
    if (starts.length && Math.max(...starts) - Math.min(...starts) > 7 * 86400e3) {
      every = "1d";
      stats = await api("security_logs/stats", statsParams(params, ["category"], every));
    }
    const byStart = new Map();
    for (const bucket of stats.buckets) {
      if (!byStart.has(bucket.start)) byStart.set(bucket.start, []);
      byStart.get(bucket.start).push(bucket);
    }
    const columns = [...byStart.entries()].sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
    const width = 900, height = 220, left = 40, bottom = 22, top = 8;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "events over time by category" });
    const highest = Math.max(1, ...columns.map(([, b]) => b.reduce((sum, x) => sum + x.count, 0)));
    const step = (width - left) / Math.max(1, columns.length);
    const scale = (height - bottom - top) / highest;
    chart.appendChild(axisLabel(left - 4, top + 8, String(highest), "end"));
    chart.appendChild(axisLabel(left - 4, height - bottom, "0", "end"));
    columns.forEach(([start, buckets], index) => {
      let y = height - bottom;
      for (const bucket of buckets.sort((a, b) => String(a.key.category).localeCompare(String(b.key.category)))) {
        const h = bucket.count * scale;
        y -= h;
        const bar = svg("rect", {
          x: (left + index * step + 1).toFixed(1), y: y.toFixed(1),
          width: Math.max(1, step - 2).toFixed(1), height: Math.max(h, 0.5).toFixed(1),
          fill: colour(String(bucket.key.category)), "data-category": String(bucket.key.category),
        });
        const title = svg("title");
        title.textContent = start + " · " + bucket.key.category + ": " + bucket.count;
        bar.appendChild(title);
        chart.appendChild(bar);
      }
      if (index % Math.ceil(columns.length / 8) === 0) {
        const label = every === "1d" ? start.slice(5, 10) : start.slice(5, 13).replace("T", " ") + "h";
        chart.appendChild(axisLabel(left + index * step, height - 6, label, "start"));
      }
    });
    $("chart").replaceChildren(chart);
    const legend = $("legend");
    legend.replaceChildren();
    for (const category of [...new Set(stats.buckets.map((b) => String(b.key.category)))].sort()) {
      const item = el("li");
      const swatch = el("span");
      swatch.style.background = colour(category);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(category));
      legend.appendChild(item);
    }
  }

  // Records by client country, largest first.
  async function countryChart(params) {
    const stats = await api("security_logs/stats", statsParams(params, ["country"], null));
    const rows = stats.buckets.slice(0, 12);
    const width = 420, rowHeight = 18, left = 70;
    const height = Math.max(rowHeight, rows.length * rowHeight) + 4;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "records by client country" });
    const highest = Math.max(1, ...rows.map((b) => b.count));
    rows.forEach((bucket, index) => {
      const y = index * rowHeight + 2;
      const country = bucket.key.country === null ? "(none)" : String(bucket.key.country);
      chart.appendChild(axisLabel(left - 6, y + 12, country, "end"));
      const w = ((width - left - 50) * bucket.count) / highest;
      const bar = svg("rect", { x: left, y, width: Math.max(1, w).toFixed(1), height: rowHeight - 4, fill: "#2257c5", "data-country": country });
      const title = svg("title");
      title.textContent = country + ": " + bucket.count;
      bar.appendChild(title);
      chart.appendChild(bar);
      chart.appendChild(axisLabel(left + w + 4, y + 12, String(bucket.count), "start"));
    });
    $("countries").replaceChildren(chart);
  }

  function statsParams(params, by, every) {
    const copy = new URLSearchParams(params);
    for (const field of by) copy.append("by", field);
    if (every) copy.set("every", every);
    return copy;
  }

  function axisLabel(x, y, text, anchor) {
    const label = svg("text", { x, y, "text-anchor": anchor });
    label.textContent = text;
    return label;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      search();
    });
    $("more").addEventListener("click", more);
    search();
  });
})();
