/**
 * A connection to Redis for a step: every key under the step's namespace, every command
 * counted, and an outage reported in words and ridden out with backoff.
 *
 * ioredis already reconnects by itself; what it lacks for this project is the reporting. Left
 * alone it prints `[ioredis] Unhandled error event` once per attempt and, by default, retries
 * every 50–2000 ms for ever while commands pile up in its offline queue, or fail after 20
 * attempts with a `MaxRetriesPerRequestError` that names neither the server nor the cause.
 * Here an outage is one clear line when it starts (with the address and the reason), a
 * reminder every so often while it lasts, and one line when the connection is back.
 *
 * @module
 */
import { type Command, Redis, type RedisOptions } from "ioredis";
import { InputError } from "../input-error.ts";
import { reasonOf } from "../reason-of.ts";
import { redactUrl } from "../redact-url.ts";

/**
 * Commands sent by every connection of one step instance, for the idle-load benchmark
 * (`StepInstance.statementsSent`). Counted on the client, as `Database` counts statements:
 * exact for the instance being measured, where the server's `INFO commandstats` would count
 * every client of a shared server.
 */
export class CommandCounter {
  #sent = 0;

  get sent(): number {
    return this.#sent;
  }

  add(): void {
    this.#sent++;
  }
}

/** Reconnect delays: 100 ms, doubling, at most 2 s — quick after a blip, calm in an outage. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 2_000);
}

/** An outage is reported when it starts, then every this many attempts (about 30 s at 2 s each). */
const REPORT_EVERY_ATTEMPTS = 15;

export interface RedisConnectionOptions {
  readonly url: string;
  /** Every key this connection names is stored as `${namespace}:key` (ioredis `keyPrefix`). */
  readonly namespace: string;
  /** Shown by `CLIENT LIST` (`name=…`) and in reports, so you can tell connections apart. */
  readonly name: string;
  /** Where this connection counts the commands it sends. */
  readonly counter?: CommandCounter;
  /**
   * `true`: a command waits for as long as the server is away (a worker: it has nothing better
   * to do). `false`, the default: a command fails after a few reconnect attempts, about 3 s (an
   * application enqueuing a job should hear about the outage, not hang).
   *
   * Either way, `disconnect()` does not end the wait: between two reconnect attempts there is
   * no socket whose close would make ioredis reject the commands it holds, nor an attempt left
   * to count, so they stay pending for good. Whoever awaits one while stopping must stop
   * awaiting it (step 04's `wake` abandons the slot's loop).
   */
  readonly waitThroughOutages?: boolean;
  /**
   * `true`: commands issued in the same turn of the event loop leave in one write, and their
   * replies come back in one read (ioredis `enableAutoPipelining`). For a connection that
   * several loops share; a connection blocked in `BLMOVE` gains nothing from it.
   */
  readonly autoPipelining?: boolean;
  /** Told when the server cannot be reached; defaults to a line on stderr. */
  readonly onUnreachable?: (message: string) => void;
  /** Told when the connection is back after an outage; defaults to a line on stderr. */
  readonly onReconnected?: (message: string) => void;
}

/** A namespace is also a glob pattern (`${namespace}:*`) and a schema name: keep it plain. */
const NAMESPACE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `namespace` is lowercase letters, digits and `_` (no glob characters). */
export function assertNamespace(namespace: string): void {
  if (!NAMESPACE.test(namespace)) {
    throw new InputError(
      `Invalid namespace ${JSON.stringify(namespace)}: use lowercase letters, digits and '_' (at most 63).`,
    );
  }
}

/** ioredis with a command counter: every command goes through `sendCommand`, pipelines too. */
class CountingRedis extends Redis {
  readonly #counter: CommandCounter | undefined;

  constructor(url: string, options: RedisOptions, counter: CommandCounter | undefined) {
    super(url, options);
    this.#counter = counter;
  }

  // A command resent after a reconnect is counted again: it is sent again.
  override sendCommand(command: Command, stream?: Parameters<Redis["sendCommand"]>[1]): unknown {
    this.#counter?.add();
    return super.sendCommand(command, stream);
  }
}

/** Opens a connection (in the background: commands wait until it is ready). */
export function connectRedis(options: RedisConnectionOptions): Redis {
  assertNamespace(options.namespace);
  const where = redactUrl(options.url);
  const client = new CountingRedis(
    options.url,
    {
      keyPrefix: `${options.namespace}:`,
      connectionName: options.name,
      retryStrategy: reconnectDelayMs,
      // ioredis counts this per reconnect attempt; null means "wait for ever".
      maxRetriesPerRequest: options.waitThroughOutages ? null : 5,
      enableAutoPipelining: options.autoPipelining ?? false,
    },
    options.counter,
  );
  const unreachable =
    options.onUnreachable ?? ((message: string) => process.stderr.write(`${message}\n`));
  const reconnected =
    options.onReconnected ?? ((message: string) => process.stderr.write(`${message}\n`));

  let lastError: string | undefined;
  let attempts = 0;
  // Without an 'error' listener ioredis prints every failed attempt itself.
  client.on("error", (error: unknown) => {
    lastError = reasonOf(error);
  });
  client.on("reconnecting", (delayMs: number) => {
    attempts++;
    if (attempts === 1 || attempts % REPORT_EVERY_ATTEMPTS === 0) {
      const reason = lastError ?? "the server closed the connection";
      const still = attempts === 1 ? "" : ` still, after ${attempts} attempts`;
      unreachable(
        `Redis at ${where} is unreachable${still} (${reason}); ${options.name} reconnects in ${delayMs} ms, backing off to every ${reconnectDelayMs(Number.POSITIVE_INFINITY) / 1000} s.`,
      );
    }
  });
  client.on("ready", () => {
    if (attempts > 0) {
      reconnected(
        `Redis at ${where} answers again; ${options.name} reconnected after ${attempts} attempt(s).`,
      );
    }
    attempts = 0;
    lastError = undefined;
  });
  return client;
}
