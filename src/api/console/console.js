// The security log console: plain JavaScript over the read API next to this page.
//
// Every value from the log reaches the page through textContent or an SVG text node, never as
// HTML; the page's Content-Security-Policy allows no inline script and no other origin.
//
// The page's URL holds the whole view (the filters, the query, the selected record), so a
// reload or a shared link shows the same rows and Back returns to the view before. One Apply
// is one user action: its list and its two charts carry one `view` id, and the API records
// one `audit.log_viewed` for them.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const PAGE = 50;
  // One colour per built-in category, for every reader; a category of a service's own
  // catalog gets one from its name.
  const CATEGORY_COLOURS = {
    authentication: "#2257c5", session: "#4e79a7", user: "#59a14f", identity: "#76b7b2",
    authorization: "#e15759", role: "#b07aa1", api_key: "#edae49", webhook_endpoint: "#9c755f",
    integration: "#8e6c8a", data: "#f28e2b", upload: "#66a182", message: "#00798c",
    config: "#bab0ac", threat: "#d1495b", system: "#5b6576", audit: "#a0a8b8",
  };
  const EXTRA = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"];
  // The filters in the URL, by the API's names where it has them.
  const FIELDS = [
    ["range", "range"], ["from", "from_date"], ["to", "to_date"], ["users", "users"],
    ["types", "types"], ["events", "events"], ["outcome", "outcome"], ["q", "q"],
  ];
  let cursor = null;
  let total = null;
  let selected = null;
  let view = null;

  function colour(category) {
    if (CATEGORY_COLOURS[category]) return CATEGORY_COLOURS[category];
    let hash = 0;
    for (const c of category) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
    return EXTRA[hash % EXTRA.length];
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

  function newViewId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The view as the form shows it.
  function formState() {
    const state = new URLSearchParams();
    for (const [id, name] of FIELDS) {
      const value = $(id).value.trim();
      if (value) state.set(name, value);
    }
    if ($("hide-reads").checked) state.set("hide_log_reads", "true");
    const current = new URLSearchParams(location.search);
    for (const kept of ["order", "hide_columns"]) {
      if (current.get(kept)) state.set(kept, current.get(kept));
    }
    return state;
  }

  // The columns the reader hid, and the order, as the URL says.
  function showLayout(state) {
    const hidden = list(state.get("hide_columns") || "");
    for (const box of document.querySelectorAll("#columns input")) {
      box.checked = !hidden.includes(box.value);
      $("records").classList.toggle("hide-" + box.value, !box.checked);
    }
    $("order").textContent = state.get("order") === "asc" ? "Time (UTC) ↑" : "Time (UTC) ↓";
  }

  function columnsChanged() {
    const hidden = [...document.querySelectorAll("#columns input")].filter((b) => !b.checked).map((b) => b.value);
    const state = new URLSearchParams(location.search);
    if (hidden.length) state.set("hide_columns", hidden.join(","));
    else state.delete("hide_columns");
    history.replaceState(null, "", "?" + state.toString());
    showLayout(state);
  }

  // Newest or oldest first: a new view, in the history.
  function toggleOrder() {
    const state = new URLSearchParams(location.search);
    if (state.get("order") === "asc") state.delete("order");
    else state.set("order", "asc");
    state.delete("record");
    history.pushState(null, "", "?" + state.toString());
    showLayout(state);
    show(state);
  }

  // The form as the URL says.
  function showState(state) {
    for (const [id, name] of FIELDS) $(id).value = state.get(name) || "";
    $("hide-reads").checked = state.get("hide_log_reads") === "true";
    rangeChanged();
  }

  function rangeChanged() {
    const preset = $("range").value !== "";
    $("from").disabled = preset;
    $("to").disabled = preset;
  }

  // The API's parameters for a view.
  function apiParams(state) {
    const params = new URLSearchParams();
    const time = (value) => value.replace("T", " ");
    const range = state.get("range");
    if (range) {
      params.set("from_date", "-" + range);
    } else {
      if (state.get("from_date")) params.set("from_date", time(state.get("from_date")));
      if (state.get("to_date")) params.set("to_date", time(state.get("to_date")));
    }
    for (const user of list(state.get("users") || "")) params.append("user_ids[]", user);
    for (const type of list(state.get("types") || "")) params.append("log_types[]", type);
    for (const event of list(state.get("events") || "")) params.append("log_events[]", event);
    if (state.get("outcome")) params.set("outcome", state.get("outcome"));
    if ((state.get("q") || "").trim()) params.set("q", state.get("q"));
    if (state.get("hide_log_reads")) params.set("hide_log_reads", "true");
    return params;
  }

  // The list's own parameters: the order.
  function listParams(state, params) {
    const copy = new URLSearchParams(params);
    if (state.get("order") === "asc") copy.set("order", "asc");
    return copy;
  }

  function status(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  async function api(path, params) {
    const response = await fetch(path + (params ? "?" + params.toString() : ""), {
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
    // Nothing of an earlier answer stays on screen beside an error.
    clearResults();
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

  function clearResults() {
    $("records").tBodies[0].replaceChildren();
    $("chart").replaceChildren();
    $("legend").replaceChildren();
    $("countries").replaceChildren();
    $("end").textContent = "";
    $("more").hidden = true;
    cursor = null;
    total = null;
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
      row.tabIndex = 0;
      row.addEventListener("click", () => select(record, row));
      row.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          select(record, row);
        }
      });
      body.appendChild(row);
    }
  }

  // Opens a record and puts it in the URL (without a new history entry).
  function select(record, row) {
    showRecord(record, row);
    const state = new URLSearchParams(location.search);
    state.set("record", record.id);
    history.replaceState(null, "", "?" + state.toString());
    $("permalink").href = location.href;
  }

  function showRecord(record, row) {
    document.querySelectorAll("#records tbody tr.selected").forEach((r) => r.classList.remove("selected"));
    if (row) row.classList.add("selected");
    selected = { id: record.id, row };
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
    const fields = $("fields").tBodies[0];
    fields.replaceChildren();
    for (const [key, value] of flatten(record, "")) {
      if (key.startsWith("changes.")) continue;
      const tr = document.createElement("tr");
      tr.appendChild(el("td", key));
      tr.appendChild(el("td", value));
      fields.appendChild(tr);
    }
    $("record").textContent = JSON.stringify(record, null, 2);
    $("permalink").href = location.href;
  }

  // Every leaf of a record as a dotted key and its text.
  function flatten(value, prefix) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? prefix + "." + key : key));
    }
    return [[prefix, render(value)]];
  }

  function closeRecord() {
    if ($("detail").hidden) return;
    $("detail").hidden = true;
    document.querySelector("main").classList.remove("with-detail");
    const row = selected && selected.row;
    document.querySelectorAll("#records tbody tr.selected").forEach((r) => r.classList.remove("selected"));
    selected = null;
    const state = new URLSearchParams(location.search);
    state.delete("record");
    const query = state.toString();
    history.replaceState(null, "", query ? "?" + query : location.pathname);
    if (row && row.isConnected) row.focus();
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
    if (page.meta.total_count !== undefined) total = page.meta.total_count;
    $("more").hidden = !cursor;
    const shown = $("records").tBodies[0].rows.length;
    if (total === null) {
      $("end").textContent = shown + " shown";
    } else if (total === 0) {
      $("end").textContent = "No records match this view.";
    } else {
      const pages = Math.max(1, Math.ceil(total / PAGE));
      const at = Math.max(1, Math.ceil(shown / PAGE));
      $("end").textContent = shown + " of " + total + " shown · page " + at + " of " + pages;
    }
    return page;
  }

  // Names no catalog holds: the answer may be empty for a misspelling, so say so.
  function showWarnings(warnings) {
    $("query-warnings").textContent = warnings.map((w) => "Warning: " + w.message).join("\n");
    $("query-warnings").hidden = warnings.length === 0;
  }

  // Applies the form: a new entry in the history, then the view.
  function apply() {
    const state = formState();
    const query = state.toString();
    if (query !== location.search.replace(/^\?/, "")) {
      history.pushState(null, "", query ? "?" + query : location.pathname);
    }
    show(state);
  }

  // Shows the view `state` (the URL's): the list, the charts and the selected record.
  async function show(state) {
    $("query-error").hidden = true;
    $("query-warnings").hidden = true;
    clearResults();
    const record = state.get("record");
    if (!record) {
      $("detail").hidden = true;
      document.querySelector("main").classList.remove("with-detail");
    }
    view = newViewId();
    const params = apiParams(state);
    $("export").href = "security_logs/export?" + withParam(listParams(state, params), "format", "csv").toString();
    status("Loading…");
    try {
      const first = withParam(listParams(state, params), "view", view);
      first.set("per_page", String(PAGE));
      first.set("count", "true");
      await loadPage(first);
      if (record) await openById(record);
      await Promise.all([timeChart(params, state), countryChart(params)]);
      status("");
    } catch (error) {
      showError(error);
    }
  }

  async function openById(id) {
    const row = [...$("records").tBodies[0].rows].find((r) => r.dataset.id === id);
    try {
      const answer = await api("security_logs/" + encodeURIComponent(id));
      showRecord(answer.security_log, row || null);
    } catch (error) {
      if (error.status === 404) status("The record of this link is not in the log (or not yours to read).", true);
      else throw error;
    }
  }

  function withParam(params, name, value) {
    const copy = new URLSearchParams(params);
    copy.set(name, value);
    return copy;
  }

  async function more() {
    if (!cursor) return;
    const state = new URLSearchParams(location.search);
    const params = listParams(state, apiParams(state));
    params.set("per_page", String(PAGE));
    params.set("cursor", cursor);
    params.set("view", view);
    try {
      await loadPage(params);
    } catch (error) {
      showError(error);
    }
  }

  const BUCKETS = { "1h": ["5m", 300e3], "24h": ["1h", 3600e3], "7d": ["6h", 21600e3], "30d": ["1d", 86400e3] };

  // Events over time, stacked by category, on a continuous time axis: a bucket without
  // records is drawn empty, so a gap in the log shows as one.
  async function timeChart(params, state) {
    let [every, step] = BUCKETS[state.get("range")] || ["1h", 3600e3];
    let stats = await api("security_logs/stats", statsParams(params, ["category"], every));
    let starts = stats.buckets.map((b) => Date.parse(b.start));
    if (!state.get("range") && starts.length && Math.max(...starts) - Math.min(...starts) > 7 * 86400e3) {
      [every, step] = ["1d", 86400e3];
      stats = await api("security_logs/stats", statsParams(params, ["category"], every));
      starts = stats.buckets.map((b) => Date.parse(b.start));
    }
    const byStart = new Map();
    for (const bucket of stats.buckets) {
      const at = Date.parse(bucket.start);
      if (!byStart.has(at)) byStart.set(at, []);
      byStart.get(at).push(bucket);
    }
    let first = starts.length ? Math.min(...starts) : Date.now();
    let last = starts.length ? Math.max(...starts) : Date.now();
    if (state.get("range")) {
      // The whole range, from its start to now.
      const span = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 }[state.get("range")];
      const now = Date.now();
      first = Math.min(first, Math.floor((now - span) / step) * step);
      last = Math.max(last, Math.floor(now / step) * step);
    }
    const columns = [];
    for (let at = first; at <= last && columns.length < 2000; at += step) columns.push([at, byStart.get(at) || []]);
    const width = 900, height = 220, left = 40, bottom = 22, top = 8;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "events over time by category" });
    const highest = Math.max(1, ...columns.map(([, b]) => b.reduce((sum, x) => sum + x.count, 0)));
    const columnWidth = (width - left) / Math.max(1, columns.length);
    const scale = (height - bottom - top) / highest;
    chart.appendChild(svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
    chart.appendChild(axisLabel(left - 4, top + 8, String(highest), "end"));
    chart.appendChild(axisLabel(left - 4, height - bottom, "0", "end"));
    columns.forEach(([at, buckets], index) => {
      const x = left + index * columnWidth;
      const start = new Date(at).toISOString();
      const group = svg("g", { "data-start": start, "data-count": buckets.reduce((s, b) => s + b.count, 0) });
      let y = height - bottom;
      for (const bucket of buckets.sort((a, b) => String(a.key.category).localeCompare(String(b.key.category)))) {
        const category = String(bucket.key.category);
        const h = bucket.count * scale;
        y -= h;
        const bar = svg("rect", {
          x: (x + 0.5).toFixed(1), y: y.toFixed(1),
          width: Math.max(0.5, columnWidth - 1).toFixed(1), height: Math.max(h, 0.5).toFixed(1),
          fill: colour(category), "data-category": category,
        });
        const title = svg("title");
        title.textContent = start + " · " + category + ": " + bucket.count;
        bar.appendChild(title);
        bar.addEventListener("click", () => narrowTo(category, at, at + step));
        group.appendChild(bar);
      }
      chart.appendChild(group);
      if (index % Math.max(1, Math.ceil(columns.length / 8)) === 0) {
        const label = step >= 86400e3 ? start.slice(5, 10) : start.slice(5, 16).replace("T", " ");
        chart.appendChild(axisLabel(x, height - 6, label, "start"));
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

  // A bar's category and time, as the view's filters.
  function narrowTo(category, from, to) {
    const iso = (at) => new Date(at).toISOString().slice(0, 16);
    $("range").value = "";
    $("from").value = iso(from);
    $("to").value = iso(to);
    $("types").value = category;
    rangeChanged();
    apply();
  }

  let world = null;

  // The countries' shapes, fetched once from the console's own files.
  async function worldShapes() {
    if (!world) {
      const response = await fetch("console/world.json", { credentials: "same-origin" });
      world = await response.json();
    }
    return world;
  }

  // Records by client country on a world map: each country shaded by its count, its name and
  // count on hover and focus, a click (or Enter) adding it to the query. Countries the map
  // has no shape for are listed below it.
  async function countryChart(params) {
    const [stats, shapes] = await Promise.all([
      api("security_logs/stats", statsParams(params, ["country"], null)),
      worldShapes(),
    ]);
    const counts = new Map();
    for (const bucket of stats.buckets) {
      const code = bucket.key.country === null ? null : String(bucket.key.country).toUpperCase();
      counts.set(code, (counts.get(code) || 0) + bucket.count);
    }
    const highest = Math.max(1, ...[...counts].filter(([code]) => code !== null).map(([, n]) => n));
    const map = svg("svg", { viewBox: `0 0 ${shapes.width} ${shapes.height}`, role: "group", "aria-label": "records by client country" });
    const drawn = new Set();
    for (const country of shapes.countries) {
      const count = (country.code && counts.get(country.code)) || 0;
      const path = svg("path", { d: country.d, class: count ? "land counted" : "land" });
      if (country.code) drawn.add(country.code);
      const label = country.name + (country.code ? " (" + country.code + ")" : "") + ": " + count;
      const title = svg("title");
      title.textContent = label;
      path.appendChild(title);
      if (count) {
        // Shaded by the count's share of the largest, on a log scale: one record still shows.
        const share = Math.log(1 + count) / Math.log(1 + highest);
        path.setAttribute("fill-opacity", (0.25 + 0.75 * share).toFixed(2));
        path.setAttribute("data-country", country.code);
        path.setAttribute("data-count", String(count));
        path.setAttribute("tabindex", "0");
        path.setAttribute("aria-label", label);
        path.addEventListener("click", () => filterCountry(country.code));
        path.addEventListener("keydown", (event) => {
          if (event.key === "Enter") filterCountry(country.code);
        });
        path.addEventListener("focus", () => ($("map-info").textContent = label));
        path.addEventListener("mouseenter", () => ($("map-info").textContent = label));
      }
      map.appendChild(path);
    }
    const elsewhere = [...counts].filter(([code]) => code === null || !drawn.has(code)).sort((a, b) => b[1] - a[1]);
    const rest = el("p", elsewhere.length
      ? "Not on the map: " + elsewhere.map(([code, n]) => (code === null ? "(none)" : code) + " " + n).join(", ")
      : "", "elsewhere");
    $("countries").replaceChildren(map, el("p", "", "map-info"), rest);
    $("countries").querySelector(".map-info").id = "map-info";
  }

  function filterCountry(country) {
    const condition = "country = " + JSON.stringify(country);
    const query = $("q").value.trim();
    $("q").value = query ? "(" + query + ") and " + condition : condition;
    apply();
  }

  function statsParams(params, by, every) {
    const copy = withParam(params, "view", view);
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
      apply();
    });
    $("range").addEventListener("change", rangeChanged);
    $("more").addEventListener("click", more);
    $("close").addEventListener("click", closeRecord);
    $("order").addEventListener("click", toggleOrder);
    for (const box of document.querySelectorAll("#columns input")) box.addEventListener("change", columnsChanged);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeRecord();
    });
    window.addEventListener("popstate", () => {
      const state = new URLSearchParams(location.search);
      showState(state);
      showLayout(state);
      show(state);
    });
    const state = new URLSearchParams(location.search);
    showState(state);
    showLayout(state);
    show(state);
  });
})();
