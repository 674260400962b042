/**
 * A page of the docs site per contract test file (`docs/contract/*.md`): the
 * file's own description, how to run it, and its code.
 *
 * The guarantees matrix links each ✗ to the test that demonstrates it. On
 * GitHub a link to the `.ts` file shows it well; on the docs site TypeDoc
 * copies a linked `.ts` file as it is, and a plain static server sends it as
 * `text/vnd.trolltech.linguist` without a charset (the "—" in it garbled), or
 * has the browser download it. So the site's matrix links to these pages
 * instead, which also read well on GitHub. Generated, with the lessons'
 * excerpts, by `npm run docs:excerpts`, and checked by its `--check`.
 *
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";

/** The contract suite's folder, relative to the repository root. */
export const CONTRACT_TESTS_DIR = "test/contract";
/** Where their pages go, relative to the repository root. */
export const CONTRACT_PAGES_DIR = "docs/contract";

/** The contract test files under `root`, relative to it, in name order. */
export function contractTestFiles(root: string): string[] {
  const folder = join(root, CONTRACT_TESTS_DIR);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.endsWith(".test.ts"))
    .sort()
    .map((name) => `${CONTRACT_TESTS_DIR}/${name}`);
}

/** The page of a contract test file: `test/contract/duplicates.test.ts` → `docs/contract/duplicates.md`. */
export function contractPagePath(testFile: string): string {
  return `${CONTRACT_PAGES_DIR}/${basename(testFile, ".test.ts")}.md`;
}

/** The page's Markdown (unformatted) for `testFile`, whose text is `source`. */
export function renderContractPage(testFile: string, source: string): string {
  const code = source.replaceAll("\r\n", "\n").replace(/\n+$/, "");
  const fence = code.includes("```") ? "````" : "```";
  return [
    "---",
    `title: ${basename(testFile)}`,
    // Two keys, not one: the repository's formatter takes a lone "key: value"
    // line followed by "---" for a heading, and breaks the front matter.
    "group: Contract tests",
    "---",
    "",
    `# ${basename(testFile)}`,
    "",
    ...leadingDocComment(code),
    `Part of the contract suite, which the [guarantees matrix](../guarantees.md) is made from. Run it on every step with \`npx vitest run ${testFile}\`, or on one with \`-t "step 05"\` added.`,
    "",
    `\`${testFile}\``,
    "",
    `${fence}typescript`,
    code,
    fence,
    "",
  ].join("\n");
}

/** The text of the file's opening `/** … *\/` comment, as paragraphs, or nothing. */
function leadingDocComment(code: string): string[] {
  const match = /^\/\*\*\n([\s\S]*?)\n\s*\*\//.exec(code);
  if (!match?.[1]) return [];
  const lines = match[1].split("\n").map((line) => line.replace(/^\s*\* ?/, ""));
  return [...lines, ""];
}
