/**
 * The workshop's command line, run as a user runs it: a real process, real
 * exit codes, one clear line for every mistake.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { spawnWorkerProcess } from "../lib/worker-process.ts";
import { testDatabaseUrl } from "./services.ts";
import { runStepCommand } from "./support/cli.ts";
import { startPrivatePostgres } from "./support/private-postgres.ts";

const namespace = `tcli_${randomBytes(3).toString("hex")}`;

afterAll(async () => {
  await runStepCommand("01", "reset", "--namespace", namespace);
  const { Database } = await import("../lib/postgres/database.ts");
  const database = new Database({ url: testDatabaseUrl(), schema: namespace });
  await database.dropSchema();
  await database.close();
});

describe("npm run step", () => {
  it("lists the steps with a one-line title each", async () => {
    const { code, stdout } = await runStepCommand();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}01 {2}Naive poll: one jobs table, polled every 100 ms$/m);
  });

  it("answers an unknown step with one line, the usage, and exit code 2", async () => {
    const { code, stderr } = await runStepCommand("99");
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toBe('error: Unknown step "99".');
    expect(stderr).toContain("Usage: npm run step");
  });

  it("answers an unknown command and an unknown flag the same way", async () => {
    const command = await runStepCommand("01", "launch");
    expect(command.code).toBe(2);
    expect(command.stderr.split("\n")[0]).toBe('error: Unknown command "launch".');
    const flag = await runStepCommand("01", "worker", "--turbo");
    expect(flag.code).toBe(2);
    expect(flag.stderr.split("\n")[0]).toBe("error: Unknown option '--turbo'");
  });

  it("has --help at every level", async () => {
    for (const args of [
      ["--help"],
      ["01", "--help"],
      ["01", "enqueue", "--help"],
      ["01", "bench", "--help"],
    ]) {
      const { code, stdout } = await runStepCommand(...args);
      expect(code, args.join(" ")).toBe(0);
      expect(stdout, args.join(" ")).toContain("Usage:");
    }
  });

  it("refuses arguments that are not JSON, and a job nobody registered, before storing anything", async () => {
    const notJson = await runStepCommand(
      "01",
      "enqueue",
      "SendWelcomeEmail",
      "{userId: 1}",
      "--namespace",
      namespace,
    );
    expect(notJson.code).toBe(2);
    expect(notJson.stderr.split("\n")[0]).toMatch(
      /^error: The arguments are not JSON \(.+\)\. Quote them for your shell/,
    );
    const unknown = await runStepCommand("01", "enqueue", "RmRf", "--namespace", namespace);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toMatch(
      /^error: Unknown job "RmRf"\. Known jobs: AlwaysFails, KillsItsWorker, Noop, SendWelcomeEmail, Sleep\./,
    );
    const stats = await runStepCommand("01", "stats", "--json", "--namespace", namespace);
    expect(JSON.parse(stats.stdout).counts).toEqual({ waiting: 0, finished: 0, failed: 0 });
  });

  it("enqueues with --count, and stats counts them", async () => {
    const enqueued = await runStepCommand(
      "01",
      "enqueue",
      "Noop",
      "{}",
      "--count",
      "3",
      "--namespace",
      namespace,
    );
    expect(enqueued.code).toBe(0);
    expect(enqueued.stdout).toMatch(/^Enqueued 3 Noop job\(s\)/);
    const stats = await runStepCommand("01", "stats", "--json", "--namespace", namespace);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      step: "01",
      namespace,
      counts: { waiting: 3 },
    });
  });

  it("says step 01 has nothing to diff against", async () => {
    const { code, stdout } = await runStepCommand("01", "diff");
    expect(code).toBe(0);
    expect(stdout).toContain("builds on nothing");
  });

  it("runs a worker until SIGTERM, then stops cleanly with exit code 0", async () => {
    const worker = spawnWorkerProcess({
      stepId: "01",
      namespace,
      env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
    });
    await worker.waitForLine(/Ctrl-C to stop/);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain("Worker stopped.");
  });

  it("runs a worker whose DATABASE_URL does not answer yet: it says so, waits, and starts when the server is up", async () => {
    const server = await startPrivatePostgres();
    await server.stop();
    const worker = spawnWorkerProcess({
      stepId: "01",
      namespace,
      env: { ...process.env, DATABASE_URL: server.url },
    });
    await worker.waitForLine(
      /DATABASE_URL is set to .* but no PostgreSQL answered there .* Asking again in 2 s/,
    );
    await server.start();
    await worker.waitForLine(/worker .* running with 1 slot/, 30_000);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
