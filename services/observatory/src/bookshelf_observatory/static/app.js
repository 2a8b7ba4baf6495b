// Bookshelf observatory: live partials (polling) and the staff actions. No framework, no CDN.
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

async function refresh(container) {
  if (container.dataset.busy === "1" || document.hidden) return;
  container.dataset.busy = "1";
  const live = document.getElementById("live");
  try {
    const response = await fetch(container.dataset.refresh, { headers: { Accept: "text/html" } });
    if (response.redirected && new URL(response.url).pathname === "/sign-in") {
      // The sign-in expired (or the staff token changed): sign in again, then come back here.
      window.location.assign("/sign-in?next=" + encodeURIComponent(window.location.pathname + window.location.search));
      return;
    }
    if (response.ok) {
      container.innerHTML = await response.text();
      if (live) { live.className = "live ok"; live.title = "updated " + new Date().toLocaleTimeString(); }
    } else if (live) {
      live.className = "live stale"; live.title = "refresh failed: HTTP " + response.status;
    }
  } catch (error) {
    if (live) { live.className = "live stale"; live.title = "refresh failed: " + error; }
  } finally {
    container.dataset.busy = "0";
  }
}

function startPolling() {
  document.querySelectorAll("[data-refresh]").forEach((container) => {
    const every = parseInt(container.dataset.every || "3000", 10);
    setInterval(() => refresh(container), every);
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
  startPolling();
});
