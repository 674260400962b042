/**
 * The benchmark's peers (`npm run bench -- --peers`): each one, driven by the
 * standard throughput scenario, runs every job once, has written every
 * completion by the time its worker has stopped, and leaves nothing behind.
 * Correctness only; how fast they are is the benchmark's business.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { PEERS } from "../lib/workshop/bench/peers/index.ts";
import type { Peer, PeerInstance } from "../lib/workshop/bench/peers/peer.ts";
import { measureThroughput } from "../lib/workshop/bench/scenarios.ts";
import { testDatabaseUrl, testRedisUrl } from "./services.ts";

const JOBS = 60;
const CONCURRENCY = 5;
/** Long enough for a loaded machine; the scenario reports missing jobs rather than hang. */
const TIMEOUT_MS = 20_000;

/** What the peer's namespace still holds on its server: schemas, or keys. */
async function leftIn(peer: Peer, url: string, namespace: string): Promise<number> {
  if (peer.backend === "postgres") {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [
        namespace,
      ]);
      return rows.length;
    } finally {
      await client.end();
    }
  }
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let found = 0;
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1_000);
      cursor = next;
      found += keys.length;
    } while (cursor !== "0");
    return found;
  } finally {
    client.disconnect();
  }
}

/**
 * Jobs the peer's own store does not show as done: graphile-worker deletes a
 * job once its completion is written; BullMQ moves it to its completed set.
 */
async function notDoneIn(
  peer: Peer,
  url: string,
  namespace: string,
  jobs: number,
): Promise<number> {
  if (peer.backend === "postgres") {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>(
        `SELECT count(*) FROM ${namespace}._private_jobs`,
      );
      return Number(rows[0]?.count);
    } finally {
      await client.end();
    }
  }
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return jobs - (await client.zcard(`${namespace}:noop:completed`));
  } finally {
    client.disconnect();
  }
}

describe.each(PEERS.map((peer) => [peer.name, peer] as const))("peer %s", (_name, peer) => {
  it("runs every job of the throughput scenario once, has written every completion when stopped, and leaves nothing behind", async () => {
    const url = peer.backend === "postgres" ? testDatabaseUrl() : testRedisUrl();
    const namespace = `tpeer_${peer.slug}_${randomBytes(3).toString("hex")}`;
    const instance: PeerInstance = await peer.open({ url, namespace });
    let closed = false;
    onTestFinished(async () => {
      if (!closed) await instance.close();
    });

    const result = await measureThroughput(instance, JOBS, CONCURRENCY, TIMEOUT_MS);
    expect(result.check).toEqual({ expected: JOBS, completed: JOBS, missing: 0, duplicates: 0 });
    expect(result.workerCpuSeconds).toBeGreaterThan(0);
    // Once its worker has stopped, every completion is written, batched or not.
    expect(await notDoneIn(peer, url, namespace, JOBS)).toBe(0);

    // What close must remove is there before it (so the check below can fail).
    expect(await leftIn(peer, url, namespace)).toBeGreaterThan(0);
    closed = true;
    await instance.close();
    expect(await leftIn(peer, url, namespace)).toBe(0);
  });
});
