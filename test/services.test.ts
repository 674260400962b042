/**
 * The services layer against real servers: the ones this run uses answer, the embedded
 * PostgreSQL survives two processes starting it at once, and a missing Redis is a clear error,
 * quickly.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { REPO_ROOT } from "../lib/paths.ts";
import { spawnWorkerProcess } from "../lib/worker-process.ts";
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
import { isOnPath } from "../lib/workshop/services/processes.ts";
import { ensureRedisServer, stopRedisServer } from "../lib/workshop/services/redis-server.ts";
import { step as step08 } from "../steps/08-recovery/index.ts";
import { requireRedisServerProgram, testDatabaseUrl, testRedisUrl } from "./services.ts";
import { runServicesCommand } from "./support/cli.ts";
import { startPrivatePostgres } from "./support/private-postgres.ts";
import { eventually } from "./support/waiting.ts";

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

describe("npm run services", () => {
  it("stop, then start, under a busy worker: PostgreSQL comes back where it was, and every job finishes", async () => {
    // A private server on a port of its own, as a second clone gets when the default is taken.
    const server = await startPrivatePostgres();
    const JOBS = 1_000;
    const instance = await step08.open({
      databaseUrl: server.url,
      namespace: "t08_services_restart",
    });
    onTestFinished(() => instance.close());
    await instance.enqueueMany(
      Array.from({ length: JOBS }, () => ({ name: "Sleep", args: { ms: 10 } })),
    );
    const worker = spawnWorkerProcess({
      stepId: step08.id,
      namespace: instance.namespace,
      // A threshold well above a restart's few seconds: nobody is taken for dead.
      args: ["--concurrency", "4", "--alive-threshold", "30000"],
      env: { ...process.env, DATABASE_URL: server.url },
    });
    try {
      await eventually(
        async () => ((await instance.counts()).finished ?? 0) >= JOBS / 5,
        "a fifth of the jobs to finish",
        30_000,
      );
      const stopped = await runServicesCommand(server.dataRoot, "stop", "postgres");
      expect(stopped).toMatchObject({ code: 0, stdout: "PostgreSQL: stopped\n" });
      const started = await runServicesCommand(server.dataRoot, "start", "postgres");
      expect(started.code, started.stderr).toBe(0);
      // It says where it is: where it was.
      expect(started.stdout).toContain(`url       ${server.url}`);
      await eventually(
        async () => {
          // The test's own pool meets the restart too: a failed look is "not yet".
          const counts = await instance.counts().catch(() => undefined);
          return counts?.finished === JOBS;
        },
        "every job to finish after the restart",
        45_000,
      );
    } finally {
      worker.child.kill("SIGTERM");
    }
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await instance.counts()).toEqual({
      ready: 0,
      scheduled: 0,
      claimed: 0,
      finished: JOBS,
      failed: 0,
    });
    expect(await instance.processes?.()).toEqual([]);
  }, 120_000);

  it("refuses to start PostgreSQL anywhere else when another program took its port, and says what to do", async () => {
    const server = await startPrivatePostgres();
    const port = Number(new URL(server.url).port);
    await server.stop();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const started = await runServicesCommand(server.dataRoot, "start", "postgres");
      expect(started.code).toBe(1);
      expect(started.stderr).toContain(`cannot start on port ${port}, where it ran before`);
      expect(started.stderr).toContain(path.join(server.dataRoot, "postgres", "port"));
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    await server.start(); // and with its port free again, it comes back there
  }, 60_000);

  it("prints a psql line and an export line to paste for the embedded PostgreSQL, password included, or how to get psql", async () => {
    const server = await startPrivatePostgres();
    const status = await runServicesCommand(server.dataRoot, "status", "postgres");
    expect(status.code, status.stderr).toBe(0);
    const line = /^ {2}psql {6}(psql \S+)$/m.exec(status.stdout)?.[1];
    expect(line).toBe(`psql ${server.url}`);
    // And the export line a workshop attendee pastes before running checks.
    expect(status.stdout).toMatch(
      new RegExp(
        `^ {2}export {4}export DATABASE_URL=${server.url.replace(/[.?*+^$()]/g, "\\$&")}$`,
        "m",
      ),
    );
    if (await isOnPath("psql")) {
      // Pasted as it is, it reaches this server.
      const { stdout } = await runFile("psql", [server.url, "-Atc", "select 1"]);
      expect(stdout.trim()).toBe("1");
    } else {
      expect(status.stdout).toContain("apt-get install postgresql-client");
    }
  }, 60_000);

  it("no lesson sends psql to a hard-coded port (someone else's server, when that port is taken)", async () => {
    const stepsDir = path.join(REPO_ROOT, "steps");
    for (const step of await fs.readdir(stepsDir)) {
      const lesson = await fs
        .readFile(path.join(stepsDir, step, "README.md"), "utf8")
        .catch(() => "");
      expect(lesson, `steps/${step}/README.md`).not.toMatch(/psql[^`]*-p\s*\d+/);
      if (lesson.includes("psql"))
        expect(lesson, `steps/${step}/README.md`).toContain("npm run services");
    }
  });

  it("stop, then start: the local redis-server comes back where it was", async () => {
    requireRedisServerProgram();
    const dataRoot = await fs.mkdtemp(path.join(os.tmpdir(), "bjfs-private-redis-"));
    onTestFinished(async () => {
      await stopRedisServer({ dataRoot });
      await fs.rm(dataRoot, { recursive: true, force: true });
    });
    // Its first start on a port of its own, as a second clone gets when the default is taken.
    const { url } = await ensureRedisServer({ dataRoot, port: await findFreePort() });
    const stopped = await runServicesCommand(dataRoot, "stop", "redis");
    expect(stopped).toMatchObject({ code: 0, stdout: "Redis:      stopped\n" });
    const again = await runServicesCommand(dataRoot, "start", "redis");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`url       ${url}`);
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
