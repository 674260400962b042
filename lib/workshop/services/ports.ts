/**
 * Choosing a TCP port on 127.0.0.1 for a local server.
 *
 * Each server has a fixed default port, so its URL is the same every day and can be pasted
 * from the docs. If another program already uses it on the server's first start, we take any
 * free port instead: a second clone of the repository, or a Redis the user runs on 63799, must
 * not stop the project from working.
 *
 * Whatever port a server got on its first start, it keeps: the port is remembered in a file in
 * its data folder, and every later start uses it again. Workers and terminals that know the
 * server's URL must find it there after `npm run services -- stop` and `start`; a server that
 * moved to a new random port left them retrying the old URL for ever. If another program has
 * taken the remembered port meanwhile, the server does not start elsewhere: the caller says so.
 *
 * @module
 */
import fs from "node:fs/promises";
import net from "node:net";
import { isErrnoException } from "./processes.ts";

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

/** Where a local server starts, and why there. */
export type StartPort =
  /** Where it ran before; free now. */
  | { kind: "remembered"; port: number }
  /** Where it ran before, and where its clients look for it, but another program listens there now. */
  | { kind: "remembered-but-taken"; port: number }
  /** Its first start: see {@link choosePort}. */
  | ({ kind: "first" } & ChosenPort);

/** The port a server whose port is remembered in `portFile` starts on; `preferred` on its first start. */
export async function portToStartOn(portFile: string, preferred: number): Promise<StartPort> {
  const remembered = await readRememberedPort(portFile);
  if (remembered === null) return { kind: "first", ...(await choosePort(preferred)) };
  const free = await isPortFree(remembered);
  return { kind: free ? "remembered" : "remembered-but-taken", port: remembered };
}

/** Writes the port a server has started on, for its next start. */
export async function rememberPort(portFile: string, port: number): Promise<void> {
  await fs.writeFile(portFile, `${port}\n`);
}

/** The port in `portFile`, or `null` if the server never started (or the file is not a port). */
export async function readRememberedPort(portFile: string): Promise<number | null> {
  let content: string;
  try {
    content = await fs.readFile(portFile, "utf8");
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return null;
    throw error;
  }
  const port = Number.parseInt(content, 10);
  return Number.isInteger(port) && port > 0 && port < 65_536 ? port : null;
}
