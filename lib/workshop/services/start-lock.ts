/**
 * A lock file, so that two terminals starting a local server at the same moment do not both
 * run initdb or start two servers on one data directory.
 *
 * The lock is a file created with the `wx` flag (`O_CREAT | O_EXCL`): the operating system
 * creates it for exactly one of the processes that try at once; the others get EEXIST and wait.
 * Its content is the pid of the holder. A holder that died (Ctrl-C, kill -9, a crash) leaves the
 * file behind: a waiter that finds the pid in it no longer alive removes it and tries again.
 *
 * Rejected alternative: `flock()`-style locks, released by the kernel when the holder dies.
 * Node has no portable API for them, and a dependency for one lock is not worth it here.
 *
 * What this does not cover: two waiters that find the same dead holder at the same instant can
 * both remove the file, and the second can remove the lock the first has just taken. That needs
 * a crash and a race at once, and the harm is bounded: PostgreSQL's own `postmaster.pid` refuses
 * a second server on a data directory, and initdb refuses a folder that is not empty.
 *
 * @module
 */
import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { StartLockTimeoutError } from "./errors.ts";
import { isErrnoException, isProcessAlive } from "./processes.ts";

export interface StartLockOptions {
  /** How long to wait for another holder before giving up with {@link StartLockTimeoutError}. */
  timeoutMs: number;
  /** Called once, with the holder's pid, if we have to wait for it. */
  onWaiting?: (holderPid: number | null) => void;
}

const RETRY_INTERVAL_MS = 100;

/** Runs `work` while holding the lock file; the file is removed afterwards, even on errors. */
export async function withStartLock<T>(
  lockFile: string,
  options: StartLockOptions,
  work: () => Promise<T>,
): Promise<T> {
  await acquire(lockFile, options);
  try {
    return await work();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

async function acquire(lockFile: string, options: StartLockOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let toldWaiting = false;
  for (;;) {
    if (await tryCreate(lockFile)) return;
    const holder = await readHolder(lockFile);
    if (holder.content === null) continue; // released between our two steps: try again now
    if (holder.pid !== null && !isProcessAlive(holder.pid)) {
      await removeIfUnchanged(lockFile, holder.content);
      continue;
    }
    // An unreadable pid means the holder has created the file and not yet written to it.
    if (Date.now() > deadline) {
      throw new StartLockTimeoutError(lockFile, holder.pid, Math.round(options.timeoutMs / 1000));
    }
    if (!toldWaiting) {
      options.onWaiting?.(holder.pid);
      toldWaiting = true;
    }
    await sleep(RETRY_INTERVAL_MS);
  }
}

async function tryCreate(lockFile: string): Promise<boolean> {
  try {
    await fs.writeFile(lockFile, `${process.pid}\n`, { flag: "wx" });
    return true;
  } catch (error) {
    if (isErrnoException(error) && error.code === "EEXIST") return false;
    throw error;
  }
}

interface LockHolder {
  /** The file's content, or `null` if the file is gone. */
  content: string | null;
  pid: number | null;
}

async function readHolder(lockFile: string): Promise<LockHolder> {
  let content: string;
  try {
    content = await fs.readFile(lockFile, "utf8");
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return { content: null, pid: null };
    throw error;
  }
  const pid = Number.parseInt(content, 10);
  return { content, pid: Number.isInteger(pid) && pid > 0 ? pid : null };
}

/** Removes a dead holder's lock, unless someone replaced it since we read it. */
async function removeIfUnchanged(lockFile: string, staleContent: string): Promise<void> {
  const now = await readHolder(lockFile);
  if (now.content === staleContent) await fs.rm(lockFile, { force: true });
}
