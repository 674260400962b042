/**
 * `npm run step 11`: six syncs of one account on step 08 run at once; on
 * step 11, with the key `account:42` and limit 1, they run one at a time in
 * the order they were enqueued, while another account's run two at a time
 * beside them — and `stats` shows who waits for what.
 *
 * @module
 */
import type { EnqueueOptions, Output, StepInstance } from "../../../lib/step.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

/** How long each "sync" takes: long enough to see them overlap, or not. */
const SYNC_MS = 400;
const SYNCS = 6;

export async function runStory({ open, out }: RunContext): Promise<void> {
  heading(out, "Step 11 — concurrency controls: one account, one sync at a time");
  say(
    out,
    `Six jobs sync account 42 with a partner's API; each takes ${SYNC_MS} ms, and two at ` +
      "once would overwrite each other's changes. Three workers with two slots each pick them up.",
  );
  const before = await open({ step: "08", namespace: "story_11_vs08" });
  try {
    await before.reset();
    heading(out, "Step 08: no limit");
    const seen = await runSyncs(out, before, [{ account: "42", options: {} }]);
    say(
      out,
      `Step 08 ran ${seen.get("42")?.most} syncs of account 42 at once: every free slot takes ` +
        "the next ready job, whatever it touches.",
    );
  } finally {
    await before.close();
  }

  const instance = await open({ namespace: "story_11" });
  try {
    await instance.reset();
    heading(out, "Step 11: key account:42 with limit 1, and account:7 with limit 2");
    say(
      out,
      "Each job is enqueued with a concurrency key and a limit. A job whose key has a free " +
        "slot is ready at once; the others wait in blocked_executions, where no worker looks. " +
        "The transaction that finishes a job of the key admits the oldest blocked one.",
    );
    const seen = await runSyncs(out, instance, [
      { account: "42", options: { concurrency: { key: "account:42", limit: 1 } } },
      { account: "7", options: { concurrency: { key: "account:7", limit: 2 } } },
    ]);
    const order = seen.get("42")?.order.join(", ");
    say(
      out,
      `Account 42: at most ${seen.get("42")?.most} at once, in the order enqueued (${order}). ` +
        `Account 7: at most ${seen.get("7")?.most} at once. The slots of a key are its ready ` +
        "and claimed rows, so a slot given back is a row deleted — once — and a dead worker's " +
        "slot comes back when recovery moves its claim (npm run step 11 -- diff).",
    );
  } finally {
    await instance.close();
  }

  heading(out, "What is still wrong");
  say(
    out,
    "A job with a key finishes in a transaction of five round trips instead of one " +
      "statement, and every finish of one hot key waits for the same row's lock " +
      "(npm run step 11 -- bench). A job released at the shutdown timeout runs on in its " +
      "stopping process for a moment while its slot has gone with it to another worker. " +
      "And a key's limit is whatever its latest enqueue said.",
  );
}

interface Account {
  readonly account: string;
  readonly options: EnqueueOptions;
}

/** Enqueues six syncs per account, runs three workers until all are done, and says what it saw. */
async function runSyncs(
  out: Output,
  instance: StepInstance,
  accounts: readonly Account[],
): Promise<Map<string, { most: number; order: string[] }>> {
  const accountOf = new Map<string, string>();
  for (const { account, options } of accounts) {
    const ids = await instance.enqueueMany(
      Array.from({ length: SYNCS }, () => ({ name: "Sleep", args: { ms: SYNC_MS }, ...options })),
    );
    for (const id of ids) accountOf.set(id, account);
  }
  await printKeys(out, instance);
  const seen = new Map(
    accounts.map(({ account }) => [account, { most: 0, order: [] as string[] }]),
  );
  const running = new Map<string, number>();
  let done = 0;
  let finishedAll = () => {};
  const allDone = new Promise<void>((resolve) => {
    finishedAll = resolve;
  });
  const offs = [
    instance.events.on("started", ({ jobId }) => {
      const account = accountOf.get(jobId) ?? "";
      const now = (running.get(account) ?? 0) + 1;
      running.set(account, now);
      const record = seen.get(account);
      if (record) {
        record.most = Math.max(record.most, now);
        record.order.push(jobId);
      }
      out.line(`  ▶ job ${jobId.padStart(2)} (account ${account})   running for it now: ${now}`);
    }),
    instance.events.on("finished", ({ jobId }) => {
      const account = accountOf.get(jobId) ?? "";
      running.set(account, (running.get(account) ?? 0) - 1);
      if (++done === accountOf.size) finishedAll();
    }),
  ];
  const workers = [1, 2, 3].map((n) => instance.startWorker({ concurrency: 2, name: `w${n}` }));
  await allDone;
  await Promise.all(workers.map((worker) => worker.stop()));
  for (const off of offs) off();
  return seen;
}

/** What `npm run step 11 -- stats` shows per key, for steps that have keys. */
async function printKeys(out: Output, instance: StepInstance): Promise<void> {
  const keys = await instance.concurrencyKeys?.();
  if (keys === undefined) return;
  out.line("");
  for (const line of renderTable(
    ["concurrency key", "limit", "holding a slot", "blocked"],
    keys.map((key) => [key.key, String(key.limit), String(key.admitted), String(key.blocked)]),
  ))
    out.line(`  ${line}`);
  out.line("");
}
