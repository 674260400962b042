/**
 * Step 11 at the command line: `enqueue --key --limit` stores jobs with a
 * key, `stats` shows them per key, and a bad key or limit — or a key on a
 * step without limits — is refused with exit code 2 and nothing stored.
 */
import { expect, it } from "vitest";
import { runStepCommand } from "../../test/support/cli.ts";
import { openForTest } from "../../test/support/open.ts";
import { step } from "./index.ts";

it("enqueues with --key and --limit, and stats shows the jobs holding and waiting for the key's slots", async () => {
  const instance = await openForTest(step, "cli");
  const inNamespace = ["--namespace", instance.namespace];
  const enqueued = await runStepCommand(
    "11",
    ...["enqueue", "Noop", "{}", "--count", "5", "--key", "account:42", "--limit", "2"],
    ...inNamespace,
  );
  expect(enqueued.code).toBe(0);
  expect(enqueued.stdout).toMatch(/key account:42 \(at most 2 at once\)/);
  const stats = await runStepCommand("11", "stats", ...inNamespace);
  expect(stats.stdout).toMatch(/account:42\s+2\s+2\s+3\s/);
  const json = await runStepCommand("11", "stats", "--json", ...inNamespace);
  expect(JSON.parse(json.stdout).concurrencyKeys).toMatchObject([
    { key: "account:42", limit: 2, admitted: 2, blocked: 3 },
  ]);
});

it("refuses a limit of 0, --limit without --key, an overlong key, and a key on step 08; nothing is stored", async () => {
  const instance = await openForTest(step, "clibad");
  const inNamespace = ["--namespace", instance.namespace];
  const refusals: [string[], RegExp][] = [
    [["11", "enqueue", "Noop", "--key", "a", "--limit", "0"], /--limit must be a whole number/],
    [["11", "enqueue", "Noop", "--limit", "2"], /give --key too/],
    [["11", "enqueue", "Noop", "--key", "k".repeat(201)], /Invalid concurrency key/],
    [["08", "enqueue", "Noop", "--key", "a"], /Step 08 has no concurrency limits \(step 11/],
  ];
  for (const [args, message] of refusals) {
    const refused = await runStepCommand(...args, ...inNamespace);
    expect(refused.code, args.join(" ")).toBe(2);
    expect(refused.stderr.split("\n")[0], args.join(" ")).toMatch(message);
  }
  const total = Object.values(await instance.counts()).reduce((sum, count) => sum + count, 0);
  expect(total).toBe(0);
});
