// Bookshelf observatory: live parts pushed by server-sent events, small charts (vendored uPlot),
// and the staff actions. No framework, no CDN.
"use strict";

const TOKEN_KEY = "bookshelf.adminToken";

function flash(text, kind) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = text;
  box.className = kind || "ok";
}

function token() {
  const input = document.getElementById("admin-token");
  let value = (input && input.value.trim()) || sessionStorage.getItem(TOKEN_KEY) || "";
  if (!value) {
    value = (window.prompt("Admin token (BOOKSHELF_ADMIN_TOKEN)") || "").trim();
  }
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    if (input) input.value = value;
  }
  return value;
}

function markLive(ok, title) {
  const live = document.getElementById("live");
  if (live) { live.className = ok ? "live ok" : "live stale"; live.title = title; }
}

async function checkSignIn() {
  // An event stream refused (401: the sign-in expired or the token changed): sign in, come back here.
  const here = window.location.pathname + window.location.search;
  try {
    const response = await fetch(here, { headers: { Accept: "text/html" } });
    if (response.redirected && new URL(response.url).pathname === "/sign-in") {
      window.location.assign("/sign-in?next=" + encodeURIComponent(here));
    }
  } catch (error) { /* the observatory is away: the indicator says so */ }
}

// Server-sent events: the server pushes each part of the page when it changed; nothing polls.
function startLive() {
  document.querySelectorAll("[data-live]").forEach((container) => {
    const source = new EventSource(container.dataset.live);
    source.addEventListener("partial", (event) => {
      container.innerHTML = event.data;
      markLive(true, "updated " + new Date().toLocaleTimeString());
    });
    source.addEventListener("charts", (event) => drawCharts(JSON.parse(event.data)));
    source.addEventListener("failure", (event) => markLive(false, "update failed: " + event.data));
    source.onerror = () => {
      // A stream ends every few seconds and the browser reconnects by itself (CONNECTING);
      // CLOSED means the server refused it.
      if (source.readyState === EventSource.CLOSED) {
        markLive(false, "live updates stopped");
        checkSignIn();
      }
    };
  });
}

const PALETTE = ["#2754c5", "#157f3b", "#b42318", "#a15c00", "#7c3aed", "#0e7490", "#be185d", "#4b5563",
  "#65a30d", "#c2410c"];
const plots = {};

function chartOptions(element, chart) {
  return {
    width: Math.max(280, element.clientWidth),
    height: 180,
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, (max || 0) * 1.1)] } },
    axes: [{}, { size: 48, label: chart.unit }],
    series: [{}].concat(chart.series.map((s, i) => ({
      label: s.name, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false,
    }))),
  };
}

function drawChart(element, chart) {
  const data = [chart.x].concat(chart.series.map((s) => s.values));
  const key = chart.series.map((s) => s.name).join("|");
  const known = plots[element.id];
  if (known && known.key === key) {
    known.plot.setData(data);
  } else {
    if (known) known.plot.destroy();
    element.textContent = "";
    plots[element.id] = { key: key, plot: new uPlot(chartOptions(element, chart), data, element) };
  }
  // What the chart shows, for people reading the page source and for the browser test.
  const totals = {};
  chart.series.forEach((s) => { totals[s.name] = s.total; });
  element.dataset.totals = JSON.stringify(totals);
  element.dataset.series = chart.series.length;
  element.dataset.updates = parseInt(element.dataset.updates || "0", 10) + 1;
}

function drawCharts(series) {
  if (typeof uPlot === "undefined") return;
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const chart = series[element.dataset.chart];
    if (chart) drawChart(element, chart);
  });
}

function actionUrl(button) {
  const action = button.dataset.action;
  if (action === "purge-topic") {
    return "/api/dead-letter-topics/" + encodeURIComponent(button.dataset.topic) + "/purge";
  }
  return "/api/dead-letters/" + encodeURIComponent(button.dataset.entry) + "/" + action;
}

function afterSuccess(button, body) {
  const entry = button.dataset.entry;
  if (entry) {
    document.querySelectorAll('tr[data-entry-id="' + entry + '"]').forEach((row) => row.remove());
    const state = document.getElementById("entry-state");
    if (state) state.textContent = body.action || "closed";
    const actions = document.getElementById("entry-actions");
    if (actions) actions.remove();
    flash("Dead letter " + entry + " " + (body.action || "closed") + ".", "ok");
  } else {
    const closed = new Set(button.dataset.closing ? button.dataset.closing.split(",") : []);
    document.querySelectorAll("tr[data-entry-id]").forEach((row) => {
      if (closed.has(row.dataset.entryId)) row.remove();
    });
    flash("Closed " + body.closed + " dead letter(s) of " + body.topic + ".", "ok");
  }
}

function shownEntries() {
  return Array.from(document.querySelectorAll("tr[data-entry-id]"), (row) => row.dataset.entryId);
}

async function staffAction(button) {
  const secret = token();
  if (!secret) { flash("An admin token is needed for this.", "bad"); return; }
  // A topic purge closes exactly the entries on screen when staff confirmed, not later arrivals.
  const shown = button.dataset.action === "purge-topic" ? shownEntries() : null;
  const question = shown ? "Close these " + shown.length + " dead letter(s) without replaying?" : "Close without replaying?";
  if (button.dataset.action !== "replay" && !window.confirm(question)) return;
  if (shown) button.dataset.closing = shown.join(",");
  button.disabled = true;
  try {
    const headers = { Authorization: "Bearer " + secret, Accept: "application/json" };
    if (shown) headers["Content-Type"] = "application/json";
    const response = await fetch(actionUrl(button), {
      method: "POST",
      headers: headers,
      body: shown ? JSON.stringify({ entry_ids: shown }) : undefined,
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) { afterSuccess(button, body); return; }
    if (response.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    flash((body.title || "Failed") + ": " + (body.detail || response.status), "bad");
  } catch (error) {
    flash("Request failed: " + error, "bad");
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) { event.preventDefault(); staffAction(button); }
});

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("admin-token");
  if (input) {
    input.value = sessionStorage.getItem(TOKEN_KEY) || "";
    input.addEventListener("change", () => sessionStorage.setItem(TOKEN_KEY, input.value.trim()));
  }
  startLive();
});
