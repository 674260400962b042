/**
 * Generated Markdown, formatted the way the repository's formatter (Biome)
 * formats Markdown, so that generating a page and `npm run lint` agree and a
 * regenerated page only differs where its content does.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";

/** `text` as Biome would format a Markdown file named `fileName`. */
export function formatMarkdown(text: string, fileName: string): string {
  const result = spawnSync(
    join(REPO_ROOT, "node_modules/.bin/biome"),
    ["format", `--stdin-file-path=${fileName}`],
    {
      cwd: REPO_ROOT,
      input: text,
      encoding: "utf8",
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `Biome could not format ${fileName}: ${result.stderr || result.error?.message}`,
    );
  }
  return result.stdout;
}
