/**
 * The dashboard's web server: `node:http`, four pages, two actions.
 *
 * - `GET /` the page; `GET /live` its live part (what the script polls);
 *   `GET /dashboard.js` the script.
 * - `POST /dead/retry` and `POST /dead/discard` with `id` (a job id, or
 *   `all`) and `csrf` (see `csrf.ts`), answered with a redirect to `/`
 *   (post/redirect/get: reloading the page does not repeat the action).
 *
 * It listens on 127.0.0.1 unless told otherwise, and then answers only
 * requests addressed to that name (the `Host` header): a page elsewhere can
 * make a browser resolve its own domain to 127.0.0.1 (DNS rebinding) and
 * then read our pages as its own; the `Host` it sends is still its domain.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { InputError } from "../../input-error.ts";
import type { StepInstance } from "../../step.ts";
import { CLIENT_SCRIPT } from "./client-script.ts";
import { CsrfToken } from "./csrf.ts";
import { LiveReadings } from "./live-readings.ts";
import { type PageView, renderLive, renderPage } from "./page.ts";

export interface DashboardOptions {
  /** The address to listen on: 127.0.0.1 unless told otherwise. */
  readonly host: string;
  /** 0 for a free port, chosen by the system. */
  readonly port: number;
  /** How often the page refreshes, in milliseconds. */
  readonly refreshMs: number;
}

export interface RunningDashboard {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** The port is taken: say by what it probably is, and how to choose another. */
export class PortTakenError extends InputError {
  override name = "PortTakenError";
  constructor(host: string, port: number) {
    super(
      `Port ${port} on ${host} is taken (another dashboard, or another server). Choose another with --port N, or leave --port out for a free one.`,
    );
  }
}

/** The most bytes a form may send: an id list, not an upload. */
const MAX_FORM_BYTES = 64 * 1024;

const SECURITY_HEADERS = {
  // Only our own script, no frames around the page (clickjacking a "discard all").
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export async function startDashboard(
  instance: StepInstance,
  options: DashboardOptions,
): Promise<RunningDashboard> {
  const readings = new LiveReadings(instance, options.refreshMs);
  const csrf = new CsrfToken();
  let allowedHosts: Set<string> | undefined;

  const view = async (message?: string, fresh = false): Promise<PageView> => ({
    step: instance.step,
    namespace: instance.namespace,
    snapshot: await (fresh ? readings.fresh() : readings.current()),
    history: readings.history,
    csrfToken: csrf.value,
    refreshMs: options.refreshMs,
    message,
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (allowedHosts !== undefined && !allowedHosts.has(request.headers.host ?? "")) {
      return send(response, 421, "text/plain", "Not addressed to this dashboard.");
    }
    const url = new URL(request.url ?? "/", "http://dashboard");
    const route = `${request.method} ${url.pathname}`;
    if (route === "GET /") {
      const message = url.searchParams.get("message") ?? undefined;
      return send(response, 200, "text/html", renderPage(await view(message)));
    }
    if (route === "GET /live") return send(response, 200, "text/html", renderLive(await view()));
    if (route === "GET /dashboard.js") {
      return send(response, 200, "text/javascript", CLIENT_SCRIPT);
    }
    if (route === "POST /dead/retry" || route === "POST /dead/discard") {
      const form = await readForm(request);
      if (!csrf.matches(form.get("csrf"))) {
        return send(response, 403, "text/plain", "Missing or wrong CSRF token: reload the page.");
      }
      const ids = form.getAll("id");
      const which = ids.includes("all") ? "all" : ids;
      const message =
        url.pathname === "/dead/retry"
          ? await retry(instance, which)
          : await discard(instance, which);
      await readings.fresh();
      response.writeHead(303, {
        ...SECURITY_HEADERS,
        location: `/?${new URLSearchParams({ message })}`,
      });
      response.end();
      return;
    }
    return send(response, 404, "text/plain", `No page ${url.pathname} here.`);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      // One line, not a stack: while a story resets the step's tables, every
      // refresh fails for a moment, and the page says so too.
      if (!(error instanceof InputError)) {
        console.error(`${request.method} ${request.url} failed: ${message}`);
      }
      if (!response.headersSent) {
        send(response, error instanceof InputError ? 400 : 500, "text/plain", message);
      } else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new PortTakenError(options.host, options.port) : error),
    );
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  if (isLoopback(options.host)) {
    allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  }
  const shownHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function retry(instance: StepInstance, which: readonly string[] | "all"): Promise<string> {
  if (!instance.retryFailedJobs)
    throw new InputError(`Step ${instance.step.id} has no dead queue.`);
  const retried = await instance.retryFailedJobs(which);
  return retried.length === 0
    ? "No job was put back (already retried or discarded?)."
    : `Put back to ready: ${retried.join(", ")}.`;
}

async function discard(instance: StepInstance, which: readonly string[] | "all"): Promise<string> {
  if (!instance.discardFailedJobs) {
    throw new InputError(`Step ${instance.step.id} cannot discard dead jobs.`);
  }
  const discarded = await instance.discardFailedJobs(which);
  return discarded.length === 0
    ? "No job was discarded (already retried or discarded?)."
    : `Discarded for good: ${discarded.join(", ")}.`;
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const type = request.headers["content-type"] ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw new InputError("Send the form as application/x-www-form-urlencoded.");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new InputError("The form is too large.");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, "content-type": `${type}; charset=utf-8` });
  response.end(body);
}
