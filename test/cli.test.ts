/**
 * The workshop's command line, run as a user runs it: a real process, real
 * exit codes, one clear line for every mistake.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { REPO_ROOT } from "../lib/paths.ts";
import { spawnWorkerProcess } from "../lib/worker-process.ts";
import { integerFlag, parseFlags } from "../lib/workshop/cli/parse.ts";
import { parseDuration, parseTime } from "../lib/workshop/cli/when.ts";
import { step as step07 } from "../steps/07-retries-priorities/index.ts";
import { testDatabaseUrl } from "./services.ts";
import { runStepCommand } from "./support/cli.ts";
import { enqueueAndWait } from "./support/enqueue-and-wait.ts";
import { startPrivatePostgres } from "./support/private-postgres.ts";
import { recordingJobs } from "./support/recording-jobs.ts";

const namespace = `tcli_${randomBytes(3).toString("hex")}`;
const inNamespace = ["--namespace", namespace];

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

  it("refuses arguments the job does not take, naming the field, before storing anything", async () => {
    const refusals = {
      '{"ms":"abc"}':
        'error: Sleep does not take these arguments: ms: Invalid input: expected number, received string. It takes e.g. {"ms":500}. Nothing was enqueued.',
      null: 'error: Sleep does not take these arguments: the arguments: Invalid input: expected object, received null. It takes e.g. {"ms":500}. Nothing was enqueued.',
      '{"ms":1e12}':
        'error: Sleep does not take these arguments: ms: at most 2147483647 (about 24.8 days, the longest a timer waits). It takes e.g. {"ms":500}. Nothing was enqueued.',
    };
    for (const [args, message] of Object.entries(refusals)) {
      const refused = await runStepCommand("01", "enqueue", "Sleep", args, ...inNamespace);
      expect(refused.code, args).toBe(2);
      expect(refused.stderr.split("\n")[0], args).toBe(message);
    }
    const stats = await runStepCommand("01", "stats", "--json", ...inNamespace);
    expect(JSON.parse(stats.stdout).counts).toEqual({ waiting: 0, finished: 0, failed: 0 });
    const help = await runStepCommand("01", "enqueue", "--help");
    expect(help.stdout).toContain("takes { ms: integer 0…2147483647 }, e.g. '{\"ms\":500}'");
  });

  it("changes nothing when it refuses a command: the step's schema is not even created", async () => {
    const untouched = `tcli_refused_${randomBytes(3).toString("hex")}`;
    // Each a mistake of the user's: exit code 2, and the message without a class name.
    const refusals: [string[], RegExp][] = [
      [["05", "worker", "--processes", "3"], /^error: Step 05 has no supervisor/],
      [["05", "enqueue", "Noop", "--priority", "1"], /^error: Step 05 has no named queues/],
      [["05", "enqueue", "Noop", "--in", "1h"], /^error: Step 05 cannot schedule jobs/],
      [["03", "failed"], /^error: Step 03 has no dead queue/],
      [["03", "retry", "--all"], /^error: Step 03 has no dead queue/],
    ];
    for (const [args, message] of refusals) {
      const refused = await runStepCommand(...args, "--namespace", untouched);
      expect(refused.code, args.join(" ")).toBe(2);
      expect(refused.stderr.split("\n")[0], args.join(" ")).toMatch(message);
    }
    expect(await schemaExists(untouched)).toBe(false);
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

  it("says what is wrong with a time, a duration or a negative number, and what to type", () => {
    const at = (text: string) => () => parseTime(text, "usage");
    const delay = (text: string) => () => parseDuration(text, "usage");
    expect(at("2026-02-30T09:00:00Z")).toThrow(
      "--at 2026-02-30T09:00:00Z is not a time that exists (February 2026 has 28 days): give one that does, such as 2026-12-01T09:00:00Z.",
    );
    expect(at("2028-02-29T09:00:00Z")()).toEqual(new Date("2028-02-29T09:00:00Z"));
    expect(at("2026-12-01T24:30Z")).toThrow(/hours go from 00 to 23/);
    expect(delay("99999999999d")).toThrow(
      "--in 99999999999d is further ahead than a date can reach (the year 275760): give a shorter duration, such as --in 365d.",
    );
    expect(delay("-5s")).toThrow(
      "--in -5s is in the past: give how long from now, such as --in 30s, or leave --in out to run the job at once.",
    );
    const spec = { count: { type: "string" }, in: { type: "string" } } as const;
    const count = parseFlags(["--count", "-1"], spec, "usage", 0);
    expect(() => integerFlag(count, "count", "usage", 1, 100)).toThrow(
      '--count must be a whole number from 1 to 100, not "-1".',
    );
    expect(parseFlags(["--in", "-5s"], spec, "usage", 0).flags.in).toBe("-5s");
    expect(() => parseFlags(["--count", "--in", "5s"], spec, "usage", 0)).toThrow(
      "--count needs a value, and the word after it starts with '-' like an option: if that word is the value, write --count=VALUE.",
    );
  });

  it("says to put -- before the options when npm kept them for itself", async () => {
    // What `npm run step 01 worker --concurrency 4` hands the CLI: `01 worker 4`, and in the
    // environment the option npm took for its own setting.
    const { stderr } = await runStepCommandWith(
      { env: { npm_lifecycle_event: "step", npm_config_concurrency: "true" } },
      "01",
      "worker",
      "4",
    );
    expect(stderr.split("\n")[0]).toBe(
      "error: npm kept --concurrency for itself: put -- before the options: npm run step 01 -- worker --concurrency 4",
    );
  });

  it("refuses a worker on queue names that enqueue would refuse, instead of serving nothing", async () => {
    for (const [queues, message] of [
      [
        "",
        "error: --queues names no queue: give one or more, separated by commas, e.g. --queues mail,default.",
      ],
      [
        "x'; drop table jobs;--",
        `error: --queues has an invalid queue name "x'; drop table jobs;--": use 1-100 letters, digits, '_', '.', ':' or '-'.`,
      ],
    ]) {
      // A worker that starts runs until stopped: the timeout stops it, and the test fails.
      const refused = await runStepCommandWith(
        { timeoutMs: 10_000 },
        "07",
        "worker",
        "--queues",
        queues ?? "",
        ...inNamespace,
      );
      expect(refused.code, queues).toBe(2);
      expect(refused.stderr.split("\n")[0], queues).toBe(message);
    }
  });

  it("stats shows the ready jobs of each queue and how long the oldest has waited", async () => {
    const queued = ["--namespace", `tcli_queues_${randomBytes(3).toString("hex")}`];
    onTestFinished(() => dropSchema(queued[1] ?? ""));
    const enqueued = await runStepCommand("07", "enqueue", "Noop", "--queue", "mail", ...queued);
    expect(enqueued.code).toBe(0);
    const table = await runStepCommand("07", "stats", ...queued);
    expect(table.stdout).toMatch(/^queue +ready +oldest has waited$/m);
    expect(table.stdout).toMatch(/^mail +1 +\d+\.\d s$/m);
    const json = await runStepCommand("07", "stats", "--json", ...queued);
    expect(JSON.parse(json.stdout).queues).toEqual([
      { queue: "mail", ready: 1, oldestReadyAgeMs: expect.any(Number) },
    ]);
  });

  it("exits 1, not 2, when the fault is not the user's: a server that does not answer", async () => {
    const unreachable = await runStepCommandWith(
      { env: { DATABASE_URL: "postgres://postgres:postgres@127.0.0.1:1/postgres" } },
      "01",
      "stats",
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.split("\n")[0]).toBe(
      "error: DATABASE_URL is set to postgres://postgres:***@127.0.0.1:1/postgres, but no PostgreSQL answered there (connect ECONNREFUSED 127.0.0.1:1).",
    );
  });

  it("failed --json gives each job's arguments as JSON, not as a string of JSON", async () => {
    const instance = await step07.open({
      databaseUrl: testDatabaseUrl(),
      namespace: `tcli_failed_${randomBytes(3).toString("hex")}`,
    });
    onTestFinished(async () => {
      await instance.database?.dropSchema();
      await instance.close();
    });
    const { registry } = recordingJobs();
    const worker = instance.startWorker({ registry, pollIntervalMs: 10 });
    onTestFinished(() => worker.stop());
    const id = await enqueueAndWait(instance, "failed", "Explode", { message: "card declined" });
    const listed = await runStepCommand(
      "07",
      "failed",
      "--json",
      "--namespace",
      instance.namespace,
    );
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ jobId: id, arguments: { message: "card declined" } }),
    ]);
  });

  it("reads the arguments from a file or from stdin with --args-file", async () => {
    const folder = await mkdtemp(join(tmpdir(), "tcli-args-"));
    onTestFinished(() => rm(folder, { recursive: true, force: true }));
    const file = join(folder, "args.json");
    await writeFile(file, '{"ms": 5}\n');
    const fromFile = await runStepCommand(
      "01",
      "enqueue",
      "Sleep",
      "--args-file",
      file,
      ...inNamespace,
    );
    expect(fromFile.stdout).toMatch(/^Enqueued 1 Sleep job\(s\) with arguments \{"ms":5\}: id /);
    // Longer than a command line takes in one word on some systems; stdin takes it.
    const message = "x".repeat(60_000);
    const fromStdin = await runStepCommandWith(
      { stdin: JSON.stringify({ message }) },
      "01",
      "enqueue",
      "AlwaysFails",
      "--args-file",
      "-",
      ...inNamespace,
    );
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toMatch(
      /^Enqueued 1 AlwaysFails job\(s\) with arguments \{"message":"x+… \(60014 characters\): id /,
    );
    const both = await runStepCommand(
      "01",
      "enqueue",
      "Sleep",
      "{}",
      "--args-file",
      file,
      ...inNamespace,
    );
    expect(both.code).toBe(2);
    expect(both.stderr.split("\n")[0]).toBe(
      "error: Give the arguments after the job name or with --args-file, not both.",
    );
  });

  it("says step 01 has nothing to diff against", async () => {
    const { code, stdout } = await runStepCommand("01", "diff");
    expect(code).toBe(0);
    expect(stdout).toContain("builds on nothing");
  });

  it("diffs the queue code, most changed file first, and the lesson, demo/ and tests with --all", async () => {
    const queue = await runStepCommand("08", "diff");
    expect(queue.code).toBe(0);
    const summary = queue.stdout.split("\n\n")[1]?.split("\n") ?? [];
    expect(summary[0]).toMatch(/^ {2}recovery\.ts +new, \d+ lines$/);
    expect(summary.at(-1)).toMatch(/^ {2}unchanged: .*backoff\.ts/);
    expect(queue.stdout).not.toContain("chaos.test.ts");
    const all = await runStepCommand("08", "diff", "--all");
    expect(all.stdout).toContain("chaos.test.ts");
    expect(all.stdout).toContain("demo/story.ts");
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

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

/**
 * Runs the CLI like {@link runStepCommand}, with more in its environment (what npm gives its
 * scripts, another DATABASE_URL), `stdin` on its standard input, and stopped with SIGTERM
 * after `timeoutMs` if it has not exited by then.
 */
async function runStepCommandWith(
  options: {
    readonly env?: Record<string, string>;
    readonly stdin?: string;
    readonly timeoutMs?: number;
  },
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const running = promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "lib/workshop/cli/main.ts"), ...args],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: testDatabaseUrl(), ...options.env },
      timeout: options.timeoutMs ?? 20_000,
    },
  );
  running.child.stdin?.end(options.stdin ?? "");
  try {
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number | null; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
