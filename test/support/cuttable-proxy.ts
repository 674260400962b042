/**
 * A TCP proxy in front of a real server that a test can cut and restore: to
 * everything connected through it, a cut looks like the server going away
 * (open connections are reset, new ones are refused) while the server itself
 * — the shared one every other test file uses — keeps running. Cheaper than
 * stopping a private server (no initdb, no restart), and the outage lasts
 * exactly as long as the test says.
 *
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface CuttableProxy {
  /** The target's URL with the proxy's host and port in it: connect through this. */
  readonly url: string;
  /** Resets every connection through the proxy and stops accepting new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /** Cuts, for good. */
  close(): Promise<void>;
}

/** Starts a proxy on a free local port that forwards to the host and port of `targetUrl`. */
export async function startCuttableProxy(targetUrl: string): Promise<CuttableProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      // One side failing ends both: the client sees the connection reset.
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await listen(server, 0);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("The proxy has no port.");
  const port = address.port;
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);

  async function cut(): Promise<void> {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }
  return {
    url: url.toString(),
    cut,
    restore: () => listen(server, port),
    close: cut,
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}
