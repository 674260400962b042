/**
 * Helpers for the stories: headings, narration, and a live view of job
 * events with times relative to the start of a scene.
 *
 * @module
 */
import { type JobEvents, now } from "../events.ts";
import type { Output } from "../step.ts";

const WIDTH = 88;

export function heading(out: Output, text: string): void {
  out.line("");
  out.line(`━━ ${text} ${"━".repeat(Math.max(3, WIDTH - text.length - 4))}`);
}

/** A paragraph, wrapped to the terminal's usual width. */
export function say(out: Output, text: string): void {
  const words = text.split(/\s+/).filter(Boolean);
  let line = "";
  for (const word of words) {
    if (line && line.length + word.length + 1 > WIDTH) {
      out.line(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.line(line);
}

/**
 * Prints the job events (started, finished, failed, retrying, recovered…) as they happen, with
 * milliseconds since the call. Returns the function that stops printing.
 */
export function narrateEvents(
  out: Output,
  events: JobEvents,
  label: (workerId: string) => string = (id) => id,
): () => void {
  const start = now();
  const t = (at: number) => `${String(Math.round(at - start)).padStart(6)} ms`;
  const unsubscribers = [
    events.on("enqueued", (e) => out.line(`${t(e.at)}  enqueued   job ${e.jobId} ${e.name}`)),
    events.on("started", (e) =>
      out.line(`${t(e.at)}  ${label(e.workerId)} ▶ started  job ${e.jobId} ${e.name}`),
    ),
    events.on("finished", (e) =>
      out.line(`${t(e.at)}  ${label(e.workerId)} ✓ finished job ${e.jobId}`),
    ),
    events.on("failed", (e) =>
      out.line(`${t(e.at)}  ${label(e.workerId)} ✗ failed   job ${e.jobId}: ${e.error}`),
    ),
    events.on("retrying", (e) =>
      out.line(
        `${t(e.at)}  ${label(e.workerId)} ↻ failed   job ${e.jobId} (attempt ${e.attempt}), retry in ${Math.round(e.retryAt - e.at)} ms: ${e.error}`,
      ),
    ),
    events.on("recovered", (e) =>
      out.line(
        `${t(e.at)}  ${label(e.workerId)} ⟲ recovered job ${e.jobId} from dead process ${e.deadProcess} → ${e.disposition === "retry" ? "retry" : "dead queue"}`,
      ),
    ),
    events.on("released", (e) =>
      out.line(`${t(e.at)}  ${label(e.workerId)} ↩ released job ${e.jobId} back to ready`),
    ),
    events.on("superseded", (e) =>
      out.line(
        `${t(e.at)}  ${label(e.workerId)} ⊘ job ${e.jobId} ${e.status} after its claim was taken away: not recorded`,
      ),
    ),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
