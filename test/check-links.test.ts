/** The Markdown link check, on a folder of files made for it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLinks } from "../lib/workshop/docs/check-links.ts";

describe("checkLinks", () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "check-links-"));
    mkdirSync(join(root, "docs"));
    writeFileSync(
      join(root, "docs", "guide.md"),
      ["---", "title: Guide", "---", "", "# Step 01 — the poll", "", "## How it goes", ""].join(
        "\n",
      ),
    );
    writeFileSync(
      join(root, "README.md"),
      [
        "# Read me",
        "",
        "The [guide](docs/guide.md), [how it goes](docs/guide.md#how-it-goes),",
        "[this page](#read-me), [the web](https://example.com/missing.md).",
        "",
        "`[in code](missing.md)` is not a link, nor is this:",
        "",
        "```md",
        "[fenced](missing.md)",
        "```",
        "",
        "Broken: [a file](docs/missing.md) and [an anchor](#nowhere).",
        "Only on GitHub: [step 01](docs/guide.md#step-01--the-poll).",
        "",
      ].join("\n"),
    );
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("reports exactly the links that lead nowhere, with file, line and reason", () => {
    expect(checkLinks(root, ["README.md", "docs/guide.md"])).toEqual([
      { file: "README.md", line: 12, target: "docs/missing.md", reason: "no such file" },
      {
        file: "README.md",
        line: 12,
        target: "#nowhere",
        reason: "no heading with this anchor",
      },
      {
        file: "README.md",
        line: 13,
        target: "docs/guide.md#step-01--the-poll",
        reason: "only GitHub has this anchor; on the docs site it is #step-01-the-poll",
      },
    ]);
  });
});
