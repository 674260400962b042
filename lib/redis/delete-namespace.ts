/**
 * Deleting every key of one namespace, and nothing else, on a Redis server other programs
 * may share.
 *
 * @module
 */
import type { Redis } from "ioredis";

/** How many keys one SCAN step asks for, and one DEL removes. */
const BATCH = 1_000;

/**
 * Deletes the keys named `${namespace}:…` through `client`, a connection made by
 * `connectRedis` for that namespace. Returns how many it deleted.
 *
 * `SCAN`, not `KEYS`: `KEYS` walks the whole keyspace in one command and blocks the server
 * for every other client while it does. Two details of ioredis's `keyPrefix` matter here:
 * it is *not* added to a SCAN pattern (so the pattern spells out the namespace), and it *is*
 * added to DEL's arguments (so the keys SCAN returns, which are full names, lose the prefix
 * before DEL puts it back).
 */
export async function deleteNamespace(client: Redis, namespace: string): Promise<number> {
  const prefix = `${namespace}:`;
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", BATCH);
    cursor = next;
    const names = keys
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length));
    if (names.length > 0) deleted += await client.del(...names);
  } while (cursor !== "0");
  return deleted;
}
