/**
 * Running a Lua script on the server: how this step changes several keys as one step.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A script, sent once and then run by its SHA1 (`EVALSHA`): the server keeps the scripts it
 * has seen, so each call sends the keys and arguments only. After a server restart (or a
 * `SCRIPT FLUSH`) the server answers `NOSCRIPT`, and the call is sent again as `EVAL` with the
 * source, which loads it again. (ioredis's `defineCommand` does the same, but adds an untyped
 * method to the connection.)
 *
 * Why scripts: Redis runs a script from its first line to its last with nothing else in
 * between — no other client's command, on any key — and it is replicated and written to the
 * AOF as one unit. So a script can read (is this job still in my processing list?) and decide
 * and write, which `MULTI` cannot: a `MULTI` queues commands blindly and runs them all, so it
 * fits only changes that decide nothing (enqueue's `INCRBY` then `LPUSH`; see `enqueue.ts`).
 * `WATCH` + `MULTI` could decide too, but retries on every conflict, which is what a busy
 * queue is made of. The cost: while a script runs, the server serves no one else, so each
 * script here touches a handful of keys and at most a bounded batch of entries.
 *
 * The keys a script touches are passed as `KEYS` (the connection adds the namespace to them),
 * never built inside the script: Redis Cluster needs to know them, and so does a reader.
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
