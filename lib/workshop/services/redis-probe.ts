/**
 * Asking a Redis server a quick question (is it there? what is its pid?) on a short-lived
 * connection that can never hang the caller.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { withTimeout } from "./with-timeout.ts";

/**
 * Connects to `url`, runs `question`, disconnects; rejects if that takes over `timeoutMs` in
 * all. No retries: ioredis would otherwise reconnect for ever in the background, which is what
 * an application wants and a probe does not.
 */
export async function askRedis<T>(
  url: string,
  timeoutMs: number,
  question: (client: Redis) => Promise<T>,
): Promise<T> {
  // Imported here, at the first question, not at the top: every worker
  // process loads this module (it finds the servers), and a PostgreSQL
  // step's worker never asks Redis anything (see cli/main.ts).
  const { Redis } = await import("ioredis");
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // When the connection fails, connect() rejects with a bare "Connection is closed."; the
  // reason (ECONNREFUSED, a DNS failure, a wrong password) comes as an "error" event, which
  // ioredis would otherwise print as an "Unhandled error event".
  let connectionError: Error | undefined;
  client.on("error", (error: Error) => {
    connectionError = error;
  });
  try {
    return await withTimeout(
      client.connect().then(() => question(client)),
      timeoutMs,
      () => new Error(`no answer within ${timeoutMs / 1000} s`),
    );
  } catch (error) {
    throw connectionError ?? error;
  } finally {
    client.disconnect();
  }
}

/** Resolves if a Redis at `url` answers PING within `timeoutMs`; rejects with the reason if not. */
export async function pingRedis(url: string, timeoutMs: number): Promise<void> {
  await askRedis(url, timeoutMs, (client) => client.ping());
}
