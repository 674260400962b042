/**
 * `npx tsx lib/workshop/cli/unchanged-copies.ts [--mark]`: lists the files in
 * `steps/` that are copies of the step before without saying so, say so
 * wrongly, or say so and differ (see `lib/workshop/checks/unchanged-copies.ts`).
 * `--mark` writes the first line of each unmarked or wrongly marked copy;
 * a copy that differs from its source is left for a person to judge.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { findCopyProblems } from "../checks/unchanged-copies.ts";
import { parseFlags } from "./parse.ts";
import { runMain } from "./run-main.ts";

const USAGE = [
  "Usage: npx tsx lib/workshop/cli/unchanged-copies.ts [--mark]",
  "",
  "Lists the files in steps/ copied unchanged from the step before that do not",
  'say so in their first line ("// Unchanged from step 05: steps/05-claims/x.ts"),',
  "say so wrongly, or say so and differ from their source.",
  "",
  "  --mark   write the first line of every unmarked or wrongly marked copy",
].join("\n");

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(argv, { mark: { type: "boolean" } }, USAGE, 0);
  if (parsed.flags.help) {
    console.log(USAGE);
    return 0;
  }
  const problems = findCopyProblems();
  if (parsed.flags.mark) {
    for (const problem of problems) {
      if (!problem.firstLine) continue;
      const path = join(REPO_ROOT, problem.file);
      const text = readFileSync(path, "utf8");
      const body = problem.kind === "unmarked copy" ? text : text.slice(text.indexOf("\n") + 1);
      writeFileSync(path, `${problem.firstLine}\n${body}`);
      console.log(`marked ${problem.file}`);
    }
  }
  const left = parsed.flags.mark ? findCopyProblems() : problems;
  if (left.length === 0) {
    console.log("Every copy in steps/ says so, and is what it says.");
    return 0;
  }
  for (const problem of left) console.log(`${problem.file}: ${problem.message}`);
  return 1;
}

runMain(() => main(process.argv.slice(2)));
