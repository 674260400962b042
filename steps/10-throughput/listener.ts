// Unchanged from step 08: steps/08-recovery/listener.ts
/**
 * The listening connection: one dedicated connection per worker that
 * `LISTEN`s on the step's channel, and comes back when it is lost.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

export interface ListenerOptions {
  /** The server to listen on. */
  readonly url: string;
  /** The channel enqueue notifies: the step's schema name. */
  readonly channel: string;
  /** Shown in `pg_stat_activity.application_name`, like the step's pool. */
  readonly applicationName: string;
  /**
   * Called for every notification, AND every time the connection has been
   * (re)established: whatever was enqueued while nobody listened was
   * notified to nobody, so the worker must look at the queue then.
   */
  readonly onWake: () => void;
  /** A connection was lost or could not be made; the listener keeps trying. */
  readonly onError: (error: unknown) => void;
  /** Counts each statement sent, for the idle-load benchmark. */
  readonly onStatement: () => void;
}

/** First wait before reconnecting; it doubles with each failure, up to the maximum. */
const RECONNECT_FIRST_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 5_000;

/**
 * Why a connection of its own, not one from the pool: a LISTEN belongs to the
 * session that sent it. A pooled connection goes back to the pool after each
 * query and is closed when idle — and with it the LISTEN. For the same reason
 * LISTEN does not work through PgBouncer in transaction-pooling mode: each
 * transaction may run on a different server connection, and notifications go
 * to whichever one happened to LISTEN.
 */
// #region listener
export class Listener {
  readonly #options: ListenerOptions;
  readonly #stopping = new AbortController();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;

  constructor(options: ListenerOptions) {
    this.#options = options;
  }

  /** Connects and LISTENs in the background, retrying until it succeeds or stops. */
  start(): void {
    this.#connecting = this.#connect();
  }

  async #connect(): Promise<void> {
    let delay = RECONNECT_FIRST_DELAY_MS;
    while (!this.#stopping.signal.aborted) {
      const client = new pg.Client({
        connectionString: this.#options.url,
        application_name: this.#options.applicationName,
        // A server that does not answer (a network cut) fails the attempt,
        // instead of leaving the worker waiting on it for ever.
        connectionTimeoutMillis: 10_000,
      });
      // Without a listener, an 'error' on a dropped connection ends the process.
      client.on("error", (error) => this.#lost(client, error));
      client.on("end", () => this.#lost(client, undefined));
      client.on("notification", () => this.#options.onWake());
      try {
        await client.connect();
        this.#options.onStatement();
        // The channel is a schema name (checked by Database): a safe identifier.
        await client.query(`LISTEN "${this.#options.channel}"`);
      } catch (error) {
        client.removeAllListeners("end");
        await client.end().catch(() => {});
        if (this.#stopping.signal.aborted) return;
        this.#options.onError(error);
        await sleep(delay, undefined, { signal: this.#stopping.signal }).catch(() => {});
        delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
        continue;
      }
      if (this.#stopping.signal.aborted) {
        await client.end().catch(() => {});
        return;
      }
      this.#client = client;
      this.#options.onWake();
      return;
    }
  }

  /** The connection dropped (server restart, network, pg_terminate_backend): start over. */
  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return; // not (or no longer) the live connection
    this.#client = undefined;
    client.end().catch(() => {});
    if (this.#stopping.signal.aborted) return;
    if (error !== undefined) this.#options.onError(error);
    this.#connecting = this.#connect();
  }

  /** Stops listening and closes the connection. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}
// #endregion listener
