/**
 * A PRIVATE PostgreSQL server for tests that stop or restart the server: its
 * own data directory in a temporary folder, its own port. The shared server
 * (the one every other test file and terminal uses) is never touched.
 *
 * The first start runs initdb (~5 s), so use one per test file, not per test.
 *
 * @module
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  ensureEmbeddedPostgres,
  stopEmbeddedPostgres,
} from "../../lib/workshop/services/embedded-postgres.ts";
import { findFreePort } from "../../lib/workshop/services/ports.ts";

export interface PrivatePostgres {
  /** Its URL; the same after every {@link PrivatePostgres.restart}. */
  readonly url: string;
  /** Stops the server (`pg_ctl stop -m fast`: sessions are cut, open transactions roll back). */
  stop(): Promise<void>;
  /** Starts it again on the same port (after {@link PrivatePostgres.stop}). */
  start(): Promise<void>;
  /** Stops it, then starts it again: what a server restart looks like to clients. */
  restart(): Promise<void>;
  /**
   * Stops it for good and deletes its folder. For a test that starts the
   * server in its body, where vitest 4 never runs an `afterAll` (call it from
   * `onTestFinished`).
   */
  close(): Promise<void>;
}

/**
 * Starts a private server in a temporary folder; it is stopped and its folder
 * deleted after the file's tests.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dataRoot = await mkdtemp(join(tmpdir(), "bjfs-private-pg-"));
  // mkdtemp makes the folder 0700. Run as root, the server runs as the
  // system user "postgres", which must be able to reach its data directory.
  await chmod(dataRoot, 0o755);
  const port = await findFreePort();
  const start = async (): Promise<string> => (await ensureEmbeddedPostgres({ dataRoot, port })).url;
  const url = await start();
  const close = async () => {
    await stopEmbeddedPostgres({ dataRoot });
    await rm(dataRoot, { recursive: true, force: true });
  };
  afterAll(close);
  const server: PrivatePostgres = {
    url,
    async stop() {
      await stopEmbeddedPostgres({ dataRoot });
    },
    async start() {
      const restartedAt = await start();
      if (restartedAt !== url) {
        throw new Error(
          `The private PostgreSQL came back at ${restartedAt}, not ${url}: its port was taken while it was stopped. Run the test again.`,
        );
      }
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    close,
  };
  return server;
}
