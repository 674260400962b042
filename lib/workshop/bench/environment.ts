/**
 * The machine, versions and server settings a benchmark ran with, printed
 * and stored with every result: a number without them means little.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { REPO_ROOT } from "../../paths.ts";

export interface BenchEnvironment {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string | null;
  /** fsync and synchronous_commit: they decide what a commit costs. */
  readonly postgresSettings: string | null;
  readonly redis: string | null;
  readonly packages: Readonly<Record<string, string>>;
}

export async function describeEnvironment(
  databaseUrl: string | null,
  redisUrl: string | null,
): Promise<BenchEnvironment> {
  const [postgres, redis] = await Promise.all([
    databaseUrl ? describePostgres(databaseUrl) : null,
    redisUrl ? describeRedis(redisUrl) : null,
  ]);
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: postgres?.version ?? null,
    postgresSettings: postgres?.settings ?? null,
    redis,
    packages: Object.fromEntries(["pg", "ioredis"].map((name) => [name, packageVersion(name)])),
  };
}

/** One line per fact, for the top of a printed report. */
export function environmentLines(environment: BenchEnvironment): string[] {
  return [
    `machine: ${environment.cpu}, ${environment.cores} cores, ${environment.memoryGiB} GiB, ${environment.os}`,
    `node ${environment.node}; ${Object.entries(environment.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}`,
    ...(environment.postgres ? [`${environment.postgres} (${environment.postgresSettings})`] : []),
    ...(environment.redis ? [`Redis ${environment.redis}`] : []),
  ];
}

async function describePostgres(url: string): Promise<{ version: string; settings: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      version: string;
      fsync: string;
      synchronous_commit: string;
    }>(
      `SELECT split_part(version(), ' on ', 1) AS version,
              current_setting('fsync') AS fsync,
              current_setting('synchronous_commit') AS synchronous_commit`,
    );
    const row = rows[0];
    return {
      version: row?.version ?? "PostgreSQL",
      settings: `fsync=${row?.fsync}, synchronous_commit=${row?.synchronous_commit}`,
    };
  } finally {
    await client.end();
  }
}

async function describeRedis(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info("server");
    return /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  } finally {
    redis.disconnect();
  }
}

/** The version of an installed npm package, as its `package.json` says. */
export function packageVersion(name: string): string {
  const path = join(REPO_ROOT, "node_modules", name, "package.json");
  const manifest: { version?: string } = JSON.parse(readFileSync(path, "utf8"));
  return manifest.version ?? "unknown";
}
