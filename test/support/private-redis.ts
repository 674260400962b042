/**
 * A PRIVATE redis-server for tests that stop or restart Redis: its own port, its own
 * process, no persistence. The shared server (the one every other test file and terminal
 * uses) is never touched.
 *
 * Started here as a plain child process (not `--daemonize`, as `lib/workshop/services/redis-server.ts`
 * does for the shared one) so that the test holds its pid, can kill it with the signal it
 * chooses, and can start it again on the same port — which the shared server's module, which
 * picks a port of its own, does not offer.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { onTestFinished } from "vitest";
import { findFreePort } from "../../lib/workshop/services/ports.ts";
import { pingRedis } from "../../lib/workshop/services/redis-probe.ts";
import { requireRedisServerProgram } from "../services.ts";

export interface PrivateRedis {
  /** Its URL; the same after every {@link PrivateRedis.start}. */
  readonly url: string;
  /** Kills the server with SIGKILL — a crash, with no chance to save anything — and waits for it to go. */
  kill(): Promise<void>;
  /** Starts it (again) on the same port and waits until it answers PING. */
  start(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/**
 * A private server on a free port, from the `redis-server` on the PATH. `started: false` leaves it stopped (for a test of a
 * worker that starts before Redis does); either way it is killed when the test that asked for
 * it ends.
 */
export async function privateRedis(options: { started?: boolean } = {}): Promise<PrivateRedis> {
  requireRedisServerProgram(); // without one, the test is skipped (it fails in CI)
  const port = await findFreePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const server: PrivateRedis = {
    url,
    async kill() {
      child?.kill("SIGKILL");
      await exited;
      child = undefined;
    },
    async start() {
      if (child) throw new Error("The private redis-server is already running.");
      // No persistence, as in development: what a restart does to the queue is the point.
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", ""];
      const started = spawn("redis-server", [...args, "--appendonly", "no"], { stdio: "ignore" });
      child = started;
      exited = new Promise((resolve) => started.once("exit", () => resolve()));
      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        try {
          await pingRedis(url, 1_000);
          return;
        } catch (error) {
          if (Date.now() > deadline || started.exitCode !== null) {
            throw new Error(`The private redis-server on port ${port} did not answer: ${error}`);
          }
          await sleep(25);
        }
      }
    },
  };
  if (options.started !== false) await server.start();
  onTestFinished(() => server.kill());
  return server;
}
