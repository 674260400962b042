/**
 * The page's only script, served as `/dashboard.js`: every refresh interval
 * it fetches the live part of the page, rendered by the server, and puts it
 * in place.
 *
 * Polling rather than server-sent events: the server reads the step once per
 * interval whoever asks (see `LiveReadings`), so a second tab costs nothing,
 * and a poll needs no connection held open, no reconnect logic, and survives
 * the dashboard being restarted. SSE would save one request a second, which
 * is not what costs: the queries are. A hidden tab does not poll at all.
 *
 * Plain JavaScript in a string, not a bundle: nothing to build in a fresh
 * clone, and it is short enough to read here.
 *
 * @module
 */
export const CLIENT_SCRIPT = `"use strict";
const live = document.getElementById("live");
const connection = document.getElementById("connection");
const refreshMs = Number(live.dataset.refreshMs);

async function refresh() {
  if (!document.hidden) {
    try {
      const response = await fetch("/live", { cache: "no-store" });
      if (!response.ok) throw new Error("the dashboard answered " + response.status);
      const html = await response.text();
      // Keep open what the reader opened (a dead job's stack) across the swap.
      const open = [...live.querySelectorAll("details[open]")].map((details) => details.id);
      live.innerHTML = html;
      for (const id of open) document.getElementById(id)?.setAttribute("open", "");
      connection.textContent = "";
    } catch (error) {
      connection.textContent = "· not updating: " + error.message;
    }
  }
  setTimeout(refresh, refreshMs);
}
setTimeout(refresh, refreshMs);
`;
