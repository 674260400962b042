/**
 * What a test run leaves behind, for CI: `.ci/run` takes a snapshot before `npm test` and
 * compares after it, and fails the gate if anything the tests started is still there.
 *
 *   node --import tsx test/leftovers.ts snapshot FILE   # before: writes what is there now
 *   node --import tsx test/leftovers.ts compare FILE    # after: prints what is new, exits 1 if any
 *
 * It looks at:
 * - processes: PostgreSQL servers (`postgres -D …`), `redis-server`s, and workers
 *   (`cli/main.ts NN worker`): the private servers of the restart tests, and workers a test
 *   failed to stop;
 * - temporary folders the tests make (private servers' data, scratch trees);
 * - test schemas in the PostgreSQL the tests use, and test keys in its Redis: every namespace
 *   a test opens is `t` + a step id (or `cli`, or `peer`) + `_…` — see `test/support/open.ts`,
 *   `test/cli.test.ts`, `test/peers.test.ts` and the steps' own restart tests.
 *
 * The servers are those of DATABASE_URL / REDIS_URL, else the local ones in `.data/` if they
 * run; the snapshot records which, and the comparison looks at the same ones.
 *
 * Comparing pids and names, not counts: other programs may start servers meanwhile, but they
 * do not reuse the pids of ours, and they do not name schemas after the tests.
 *
 * @module
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { embeddedPostgresStatus } from "../lib/workshop/services/embedded-postgres.ts";
import { redisServerStatus } from "../lib/workshop/services/redis-server.ts";

/**
 * A namespace a test made: `t01_once_a1b2c3`, `tcli_…`, `t05_pool_…`, `tpeer_bullmq_…` (a
 * benchmark peer's). Step namespaces are `step_NN`.
 */
const TEST_NAMESPACE = /^t(\d{2}|cli|peer)_/;
/** Folders in the temporary folder that tests make (`mkdtemp` prefixes). */
const TEST_FOLDER =
  /^(bjfs-private-pg-|bjfs-private-redis-|bjfs-exercise-|embedded-postgres-race-|floors-|check-links-)/;
/** A server or a worker, by its command line. */
const TEST_PROCESS = /(^|\/)postgres -D |(^|\/)redis-server |cli\/main\.ts \d\d worker/;
/** A process that is exiting as the run ends gets this long to be gone before it counts. */
const EXIT_GRACE_MS = 5_000;

interface Snapshot {
  databaseUrl: string | null;
  redisUrl: string | null;
  /** `pid command line` */
  processes: string[];
  folders: string[];
  schemas: string[];
  keys: string[];
}

async function takeSnapshot(
  databaseUrl: string | null,
  redisUrl: string | null,
): Promise<Snapshot> {
  const [processes, folders, schemas, keys] = await Promise.all([
    testProcesses(),
    testFolders(),
    databaseUrl ? testSchemas(databaseUrl) : [],
    redisUrl ? testKeys(redisUrl) : [],
  ]);
  return { databaseUrl, redisUrl, processes, folders, schemas, keys };
}

async function testProcesses(): Promise<string[]> {
  const { stdout } = await promisify(execFile)("ps", ["-eo", "pid=,args="]);
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => TEST_PROCESS.test(line.replace(/^\d+\s+/, "")));
}

async function testFolders(): Promise<string[]> {
  const names = await fs.readdir(os.tmpdir());
  return names.filter((name) => TEST_FOLDER.test(name)).map((name) => `${os.tmpdir()}/${name}`);
}

async function testSchemas(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "SELECT nspname AS name FROM pg_namespace ORDER BY nspname",
    );
    return rows.map((row) => row.name).filter((name) => TEST_NAMESPACE.test(name));
  } finally {
    await client.end();
  }
}

/** Keys are listed by namespace (`t04_lost_a1b2c3:* (3 keys)`): one line per leak, not per key. */
async function testKeys(url: string): Promise<string[]> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const perNamespace = new Map<string, number>();
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", "t*_*", "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const namespace = key.split(":")[0] ?? key;
        if (TEST_NAMESPACE.test(namespace)) {
          perNamespace.set(namespace, (perNamespace.get(namespace) ?? 0) + 1);
        }
      }
    } while (cursor !== "0");
    return [...perNamespace].sort().map(([namespace, count]) => `${namespace}:* (${count} keys)`);
  } finally {
    client.disconnect();
  }
}

/** What is in `after` and not in `before`, per kind. */
function leftSince(before: Snapshot, after: Snapshot): Record<string, string[]> {
  const added = (was: string[], is: string[]) => is.filter((item) => !was.includes(item));
  return {
    "processes still running": added(before.processes, after.processes),
    "temporary folders": added(before.folders, after.folders),
    [`test schemas in ${redacted(after.databaseUrl)}`]: added(before.schemas, after.schemas),
    [`test keys in ${redacted(after.redisUrl)}`]: added(before.keys, after.keys),
  };
}

function redacted(url: string | null): string {
  return url === null ? "(none)" : url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}

/** The servers the tests will use, as the global setup would find them without Docker. */
async function serversInUse(): Promise<{ databaseUrl: string | null; redisUrl: string | null }> {
  const [postgres, redis] = await Promise.all([embeddedPostgresStatus(), redisServerStatus()]);
  return {
    databaseUrl: process.env.DATABASE_URL || (postgres.running ? postgres.url : null),
    redisUrl: process.env.REDIS_URL || (redis.running ? redis.url : null),
  };
}

async function main([command, file]: string[]): Promise<number> {
  if ((command !== "snapshot" && command !== "compare") || file === undefined) {
    console.error("usage: node --import tsx test/leftovers.ts snapshot|compare FILE");
    return 2;
  }
  if (command === "snapshot") {
    const { databaseUrl, redisUrl } = await serversInUse();
    await fs.writeFile(file, JSON.stringify(await takeSnapshot(databaseUrl, redisUrl), null, 2));
    return 0;
  }
  const before: Snapshot = JSON.parse(await fs.readFile(file, "utf8"));
  let left = leftSince(before, await takeSnapshot(before.databaseUrl, before.redisUrl));
  const deadline = Date.now() + EXIT_GRACE_MS;
  while (left["processes still running"]?.length && Date.now() < deadline) {
    await sleep(250);
    left = leftSince(before, await takeSnapshot(before.databaseUrl, before.redisUrl));
  }
  const found = Object.entries(left).filter(([, items]) => items.length > 0);
  for (const [kind, items] of Object.entries(left)) {
    console.log(`${kind}: ${items.length}`);
    for (const item of items) console.log(`  ${item}`);
  }
  if (found.length > 0) {
    console.log("The tests left these behind: each test must stop and remove what it started.");
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
