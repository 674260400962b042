/**
 * The services layer against real servers: the ones this run uses answer, the embedded
 * PostgreSQL survives two processes starting it at once, and a missing Redis is a clear error,
 * quickly.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { REPO_ROOT } from "../lib/paths.ts";
import {
  embeddedPostgresStatus,
  stopEmbeddedPostgres,
} from "../lib/workshop/services/embedded-postgres.ts";
import {
  databaseUrl,
  PostgresUnavailableError,
  RedisUnavailableError,
  redisUrl,
} from "../lib/workshop/services/index.ts";
import { findFreePort } from "../lib/workshop/services/ports.ts";
import { testDatabaseUrl, testRedisUrl } from "./services.ts";

const runFile = promisify(execFile);

describe("the servers this test run uses", () => {
  it("PostgreSQL answers select 1", async () => {
    const client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      const result = await client.query<{ answer: number }>("select 1 as answer");
      expect(result.rows).toEqual([{ answer: 1 }]);
    } finally {
      await client.end();
    }
  });

  it("Redis answers PING", async () => {
    const client = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    try {
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });
});

describe("databaseUrl()", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("returns DATABASE_URL as is when it is set and answers, starting nothing", async () => {
    vi.stubEnv("DATABASE_URL", testDatabaseUrl());
    expect(await databaseUrl()).toBe(testDatabaseUrl());
  });

  it("throws PostgresUnavailableError naming DATABASE_URL when nothing answers there", async () => {
    const closedPort = await findFreePort();
    vi.stubEnv("DATABASE_URL", `postgres://someone:secret@127.0.0.1:${closedPort}/app`);
    const error = await databaseUrl().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(PostgresUnavailableError);
    const message = (error as PostgresUnavailableError).message;
    expect(message).toContain(
      `DATABASE_URL is set to postgres://someone:***@127.0.0.1:${closedPort}/app`,
    );
    expect(message).toContain("docker compose up -d postgres");
  });

  it("two processes starting the embedded PostgreSQL at once end with one server and one URL", async () => {
    // A private data folder, so the race starts from nothing (initdb included) without
    // touching the shared server. World-readable: as root, the server runs as `postgres`.
    const dataRoot = await fs.mkdtemp(path.join(os.tmpdir(), "embedded-postgres-race-"));
    await fs.chmod(dataRoot, 0o755);
    try {
      const [first, second] = await Promise.all([
        ensureInChildProcess(dataRoot),
        ensureInChildProcess(dataRoot),
      ]);
      expect(first.url).toBe(second.url);
      // Exactly one of them started it; the other waited for the lock and found it running.
      expect([first.startedNow, second.startedNow].sort()).toEqual([false, true]);

      const status = await embeddedPostgresStatus({ dataRoot });
      expect(status).toMatchObject({ running: true, url: first.url });
      const client = new pg.Client({ connectionString: first.url });
      await client.connect();
      try {
        // The server behind the URL serves the private data folder, not the shared one.
        const { rows } = await client.query<{ data_directory: string }>(
          "select current_setting('data_directory') as data_directory",
        );
        expect(rows).toEqual([{ data_directory: status.dataDir }]);
      } finally {
        await client.end();
      }
    } finally {
      await stopEmbeddedPostgres({ dataRoot });
      await fs.rm(dataRoot, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("redisUrl()", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("throws RedisUnavailableError within seconds when REDIS_URL points at a closed port, naming every way to get Redis", async () => {
    const closedPort = await findFreePort();
    vi.stubEnv("REDIS_URL", `redis://127.0.0.1:${closedPort}`);

    const startedAt = performance.now();
    const error = await redisUrl().catch((thrown: unknown) => thrown);
    const seconds = (performance.now() - startedAt) / 1000;

    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(seconds).toBeLessThan(5);
    const message = (error as RedisUnavailableError).message;
    expect(message).toContain(`127.0.0.1:${closedPort}`);
    expect(message).toContain("REDIS_URL");
    expect(message).toContain("redis-server");
    expect(message).toContain("docker compose up -d redis");
  });
});

interface EnsureResult {
  url: string;
  startedNow: boolean;
}

/** Runs `ensureEmbeddedPostgres({ dataRoot })` in a separate Node process, as a terminal would. */
async function ensureInChildProcess(dataRoot: string): Promise<EnsureResult> {
  const moduleUrl = pathToFileURL(
    path.join(REPO_ROOT, "lib/workshop/services/embedded-postgres.ts"),
  ).href;
  const script = `
    const [moduleUrl, dataRoot] = process.argv.slice(1);
    const { ensureEmbeddedPostgres } = await import(moduleUrl);
    console.log(JSON.stringify(await ensureEmbeddedPostgres({ dataRoot })));
  `;
  const { stdout } = await runFile(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "--eval", script, "--", moduleUrl, dataRoot],
    { cwd: REPO_ROOT, timeout: 90_000 },
  );
  return JSON.parse(stdout) as EnsureResult;
}
