/**
 * The dashboard's HTML, rendered on the server: the whole page once, then
 * the live part (`#live`) again at every refresh. One renderer for both, so
 * the page reads the same with JavaScript off (reload it by hand) as with
 * it on, and no template lives in the browser.
 *
 * @module
 */
import type { ProcessReport, Step } from "../../step.ts";
import { escapeXml } from "../docs/svg-chart.ts";
import { formatNumber } from "../format.ts";
import { renderTimeChart } from "./chart.ts";
import type { CountHistory } from "./history.ts";
import type { Snapshot } from "./snapshot.ts";

/** What a page is rendered from. */
export interface PageView {
  readonly step: Step;
  readonly namespace: string;
  readonly snapshot: Snapshot;
  readonly history: CountHistory;
  /** The token every form sends back (see `csrf.ts`). */
  readonly csrfToken: string;
  readonly refreshMs: number;
  /** What the last action did, shown once after its redirect. */
  readonly message?: string;
}

export function renderPage(view: PageView): string {
  const { step } = view;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Step ${step.id} · dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>Step ${step.id} · ${escapeXml(step.title)}</h1>
  <p class="muted">${escapeXml(step.backend === "postgres" ? "PostgreSQL schema" : "Redis key prefix")} <code>${escapeXml(view.namespace)}</code> · refreshed every ${formatNumber(view.refreshMs / 1000)} s <span id="connection"></span></p>
  ${view.message === undefined ? "" : `<p class="message" role="status">${escapeXml(view.message)}</p>`}
</header>
<main id="live" data-refresh-ms="${view.refreshMs}">
${renderLive(view)}
</main>
</body>
</html>`;
}

/** The part of the page that every refresh replaces. */
export function renderLive(view: PageView): string {
  const { snapshot } = view;
  return [
    renderCounts(snapshot),
    `<section class="charts">${renderTimeChart("Jobs in each state", view.history.secondsAgo(), view.history.inFlight())}${renderTimeChart("Jobs finished per second", view.history.secondsAgo(), [view.history.finishedPerSecond()])}</section>`,
    renderQueues(snapshot),
    snapshot.processes && renderProcesses(snapshot.processes),
    snapshot.dead && renderDead(snapshot.dead, view.csrfToken),
    snapshot.scheduled && renderScheduled(snapshot.scheduled, snapshot.counts.scheduled),
    snapshot.concurrencyKeys &&
      table(
        "Concurrency keys",
        "concurrency-keys",
        ["key", "limit", "holding a slot", "blocked", "oldest blocked has waited"],
        snapshot.concurrencyKeys.map((key) => [
          key.key,
          String(key.limit),
          String(key.admitted),
          String(key.blocked),
          key.oldestBlockedAgeMs === null ? "" : age(key.oldestBlockedAgeMs),
        ]),
        "No job holds or waits for a concurrency slot.",
      ),
    snapshot.rateLimits &&
      table(
        "Rate limits",
        "rate-limits",
        ["rate key", "limit", "waiting", "started this period", "next may start"],
        snapshot.rateLimits.map((rate) => [
          rate.key,
          `${rate.limit} per ${rate.periodMs} ms`,
          String(rate.waiting),
          `${rate.startedThisPeriod} of ${rate.limit}`,
          rate.nextStartInMs > 0 ? `in ${age(rate.nextStartInMs)}` : "now",
        ]),
        "No rate key has been used.",
      ),
    snapshot.schedules &&
      table(
        "Recurring schedules",
        "schedules",
        ["schedule", "cron", "job", "last run", "next run"],
        snapshot.schedules.map((report) => [
          report.schedule.name,
          `${report.schedule.cron}${report.schedule.timeZone ? ` (${report.schedule.timeZone})` : ""}`,
          report.schedule.job,
          report.last === null
            ? "never"
            : `${report.last.tickAt.toISOString()} (job ${report.last.jobId ?? "gone"})`,
          report.nextTickAt?.toISOString() ?? "never again",
        ]),
        "No recurring schedule is declared.",
      ),
    snapshot.batches &&
      table(
        "Batches",
        "batches",
        ["batch", "jobs", "pending", "succeeded", "dead", "state", "callbacks fired"],
        snapshot.batches.map((batch) => [
          batch.id,
          String(batch.total),
          String(batch.pending),
          String(batch.succeeded),
          String(batch.dead),
          batch.completedAt ? "completed" : batch.sealed ? "sealed" : "open",
          batch.callbacksFired.join(", "),
        ]),
        "No batch yet.",
      ),
    `<p class="muted">Read in ${formatNumber(snapshot.readMs)} ms at ${new Date(snapshot.at).toISOString()}.</p>`,
  ]
    .filter((part) => part !== undefined)
    .join("\n");
}

function renderCounts(snapshot: Snapshot): string {
  const cells = Object.entries(snapshot.counts).map(
    ([state, count]) =>
      `<div class="count" data-state="${escapeXml(state)}"><span class="number">${count}</span><span class="state">${escapeXml(state)}</span></div>`,
  );
  return `<section aria-label="Jobs per state" class="counts">${cells.join("")}</section>`;
}

function renderQueues(snapshot: Snapshot): string {
  return table(
    "Queues",
    "queues",
    ["queue", "ready", "oldest has waited"],
    snapshot.queues.map((queue) => [
      queue.queue,
      String(queue.ready),
      queue.oldestReadyAgeMs === null ? "?" : age(queue.oldestReadyAgeMs),
    ]),
    "No job is ready to run in any queue.",
  );
}

/**
 * Processes by host, then by the supervisor that started them: on several
 * machines, "which box lost its workers" is the first question.
 */
function renderProcesses(processes: readonly ProcessReport[]): string {
  if (processes.length === 0) {
    return section("Processes", "processes", `<p class="muted">No process is registered.</p>`);
  }
  const hosts = [...new Set(processes.map((p) => p.hostname))].sort();
  const byId = new Map(processes.map((p) => [p.id, p]));
  const blocks = hosts.map((host) => {
    const onHost = processes.filter((p) => p.hostname === host);
    const groups = new Map<string, ProcessReport[]>();
    for (const process of onHost) {
      const group = process.kind === "Supervisor" ? process.id : (process.supervisorId ?? "");
      groups.set(group, [...(groups.get(group) ?? []), process]);
    }
    const rows = [...groups.entries()].flatMap(([group, members]) => {
      const supervisor = byId.get(group);
      const heading =
        group === ""
          ? "started on its own"
          : `supervisor ${group}${supervisor ? ` (pid ${supervisor.pid})` : " (not registered)"}`;
      return [
        `<tr class="group"><th colspan="7">${escapeXml(heading)}</th></tr>`,
        ...members.map(
          (p) =>
            `<tr data-process="${escapeXml(p.id)}" class="${p.alive ? "alive" : "dead"}"><td>${escapeXml(p.id)}</td><td>${escapeXml(p.kind)}</td><td>${escapeXml(p.name)}</td><td>${p.pid}</td><td>${age(p.ageMs)}</td><td>${age(p.heartbeatAgeMs)} ago</td><td class="status">${p.alive ? "alive" : `dead (silent &gt; ${age(p.aliveThresholdMs)})`}</td></tr>`,
        ),
      ];
    });
    return `<h3>${escapeXml(host)}</h3><table><thead><tr><th>process</th><th>kind</th><th>name</th><th>pid</th><th>age</th><th>last heartbeat</th><th>status</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  });
  return section("Processes", "processes", blocks.join(""));
}

function renderDead(dead: NonNullable<Snapshot["dead"]>, csrfToken: string): string {
  const action = (path: string, label: string, id: string) =>
    `<form method="post" action="${path}"><input type="hidden" name="csrf" value="${escapeXml(csrfToken)}"><input type="hidden" name="id" value="${escapeXml(id)}"><button type="submit">${label}</button></form>`;
  if (dead.total === 0) {
    return section("Dead queue", "dead", `<p class="muted">The dead queue is empty.</p>`);
  }
  const rows = dead.shown.map(
    (job) =>
      `<tr data-job="${escapeXml(job.jobId)}"><td>${escapeXml(job.jobId)}</td><td>${escapeXml(job.name)}</td><td><code>${escapeXml(job.arguments)}</code></td><td>${job.attempts}</td><td>${job.failedAt.toISOString()}</td><td><details id="stack-${escapeXml(job.jobId)}"><summary>${escapeXml(job.error)}</summary><pre>${escapeXml(job.stack ?? "(no stack)")}</pre></details></td><td class="actions">${action("/dead/retry", "retry", job.jobId)}${action("/dead/discard", "discard", job.jobId)}</td></tr>`,
  );
  const more =
    dead.total > dead.shown.length
      ? `<p class="muted">The ${dead.shown.length} oldest of ${dead.total} are shown.</p>`
      : "";
  return section(
    `Dead queue (${dead.total})`,
    "dead",
    `<div class="actions">${action("/dead/retry", "retry all", "all")}${action("/dead/discard", "discard all", "all")}</div><table><thead><tr><th>job</th><th>name</th><th>arguments</th><th>attempts</th><th>failed at</th><th>error</th><th></th></tr></thead><tbody>${rows.join("")}</tbody></table>${more}`,
  );
}

function renderScheduled(
  scheduled: NonNullable<Snapshot["scheduled"]>,
  total: number | undefined,
): string {
  const now = Date.now();
  return table(
    `Scheduled${total === undefined ? "" : ` (${total})`}`,
    "scheduled",
    ["job", "name", "arguments", "due", "attempts so far"],
    scheduled.map((job) => [
      job.jobId,
      job.name,
      job.arguments,
      `${job.dueAt.toISOString()} (${job.dueAt.getTime() > now ? `in ${age(job.dueAt.getTime() - now)}` : "due"})`,
      String(job.attempts),
    ]),
    "No job is waiting for its time.",
  );
}

function table(
  title: string,
  id: string,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  empty: string,
): string {
  if (rows.length === 0) return section(title, id, `<p class="muted">${escapeXml(empty)}</p>`);
  const head = headers.map((header) => `<th>${escapeXml(header)}</th>`).join("");
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join("")}</tr>`)
    .join("");
  return section(title, id, `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`);
}

function section(title: string, id: string, body: string): string {
  return `<section id="${id}"><h2>${escapeXml(title)}</h2>${body}</section>`;
}

/** `850 ms`, `5.5 s`, `28.8 min`, `3.2 h`. */
function age(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const STYLE = `
body { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 24px 24px; color: #222; }
h1 { font-size: 22px; margin: 16px 0 4px; } h2 { font-size: 17px; margin: 20px 0 6px; } h3 { font-size: 14px; margin: 10px 0 4px; }
.muted { color: #666; } .message { background: #eef6ee; border: 1px solid #9c9; padding: 6px 10px; }
.counts { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 12px; }
.count { border: 1px solid #ccc; border-radius: 6px; padding: 8px 14px; min-width: 90px; }
.count .number { display: block; font-size: 28px; font-weight: 600; font-variant-numeric: tabular-nums; }
.count .state { color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 14px; }
table { border-collapse: collapse; font-size: 13px; } th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
thead th { border-bottom: 1px solid #aaa; } tr.group th { font-weight: 600; color: #444; padding-top: 6px; }
tr.dead td { color: #b00; } tr.dead td.status { font-weight: 600; } tr.alive td.status { color: #080; }
td code { font-size: 12px; } pre { font-size: 11px; max-width: 720px; overflow: auto; }
form { display: inline; margin-right: 4px; } .actions { margin-bottom: 6px; }
`;
