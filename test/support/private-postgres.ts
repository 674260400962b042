/**
 * A PRIVATE PostgreSQL server for tests that stop or restart the server: its
 * own data directory in a temporary folder, its own port. The shared server
 * (the one every other test file and terminal uses) is never touched.
 *
 * The first start runs initdb (with the start, 1.5 s on a quiet 2-core machine): start one only
 * in a test that needs to stop or restart it.
 *
 * @module
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import {
  ensureEmbeddedPostgres,
  stopEmbeddedPostgres,
} from "../../lib/workshop/services/embedded-postgres.ts";
import { findFreePort } from "../../lib/workshop/services/ports.ts";

export interface PrivatePostgres {
  /** Its URL; the same after every {@link PrivatePostgres.restart}. */
  readonly url: string;
  /** The folder of its files, for `npm run services -- … --data-root`. */
  readonly dataRoot: string;
  /** Stops the server (`pg_ctl stop -m fast`: sessions are cut, open transactions roll back). */
  stop(): Promise<void>;
  /** Starts it again on the same port (after {@link PrivatePostgres.stop}). */
  start(): Promise<void>;
  /** Stops it, then starts it again: what a server restart looks like to clients. */
  restart(): Promise<void>;
}

/**
 * Starts a private server in a temporary folder; it is stopped and its folder
 * deleted when the test that started it ends.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dataRoot = await mkdtemp(join(tmpdir(), "bjfs-private-pg-"));
  // mkdtemp makes the folder 0700. Run as root, the server runs as the
  // system user "postgres", which must be able to reach its data directory.
  await chmod(dataRoot, 0o755);
  onTestFinished(async () => {
    await stopEmbeddedPostgres({ dataRoot });
    await rm(dataRoot, { recursive: true, force: true });
  });
  // A port of its own for its first start; every later start comes back to it (or fails,
  // saying so, if another program took it meanwhile).
  const firstStart = await ensureEmbeddedPostgres({ dataRoot, port: await findFreePort() });
  const server: PrivatePostgres = {
    url: firstStart.url,
    dataRoot,
    async stop() {
      await stopEmbeddedPostgres({ dataRoot });
    },
    async start() {
      await ensureEmbeddedPostgres({ dataRoot });
    },
    async restart() {
      await server.stop();
      await server.start();
    },
  };
  return server;
}
