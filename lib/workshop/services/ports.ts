/**
 * Choosing a TCP port on 127.0.0.1 for a local server.
 *
 * Each server has a fixed default port, so its URL is the same every day and can be pasted
 * from the docs. If another program already uses it, we take any free port instead: a second
 * clone of the repository, or a Redis the user runs on 63799, must not stop the project from
 * working. The server module records (or PostgreSQL itself records) the port it ended up on.
 *
 * @module
 */
import net from "node:net";

const LOOPBACK = "127.0.0.1";

/** Whether nothing listens on `port` at 127.0.0.1, found by listening on it for a moment. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ port, host: LOOPBACK, exclusive: true }, () => {
      probe.close(() => resolve(true));
    });
  });
}

/** A port the operating system says is free now (port 0 means "pick one"). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : null;
      probe.close(() => (port === null ? reject(new Error("the OS gave no port")) : resolve(port)));
    });
  });
}

export interface ChosenPort {
  port: number;
  /** `true` when `preferred` was taken by another program and `port` is a free one instead. */
  preferredWasBusy: boolean;
}

/**
 * `preferred` if it is free, else a free one. Between this check and the server binding the
 * port, another program could take it; the server would then fail to start and say so in its
 * log. Rare enough on a development machine that we do not retry.
 */
export async function choosePort(preferred: number): Promise<ChosenPort> {
  if (await isPortFree(preferred)) return { port: preferred, preferredWasBusy: false };
  return { port: await findFreePort(), preferredWasBusy: true };
}
