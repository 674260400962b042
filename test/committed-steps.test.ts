import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { REPO_ROOT } from "../lib/paths.ts";
import { committedSteps } from "../lib/workshop/cli/committed-steps.ts";

/** A small git repository with two step folders, committed. */
function repositoryWithTwoSteps(): string {
  const root = mkdtempSync(join(tmpdir(), "committed-steps-test-"));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  for (const [folder, text] of [
    ["steps/01-first", "first\n"],
    ["steps/02-second", "second\n"],
  ] as const) {
    mkdirSync(join(root, folder), { recursive: true });
    writeFileSync(join(root, folder, "queue.ts"), text);
  }
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, stdio: "pipe" });
  git("init", "--quiet");
  git("add", ".");
  git(
    "-c",
    "user.name=Test",
    "-c",
    "user.email=test@example.com",
    "commit",
    "--quiet",
    "-m",
    "two steps",
  );
  return root;
}

const FOLDERS = ["steps/01-first", "steps/02-second"];

describe("-- diff compares the committed steps, which the lessons describe", () => {
  it("reads the committed copy of a step edited in the working tree, and says how to see or undo the edit", () => {
    const root = repositoryWithTwoSteps();
    writeFileSync(join(root, "steps/01-first/queue.ts"), "edited for an exercise\n");
    const compared = committedSteps(root, FOLDERS);
    onTestFinished(() => compared.dispose());
    expect(readFileSync(join(compared.root, "steps/01-first/queue.ts"), "utf8")).toBe("first\n");
    expect(compared.note).toContain("Your working tree changes steps/01-first.");
    expect(compared.note).toContain("git diff -- steps/01-first");
    expect(compared.note).not.toContain("02-second");
  });

  it("says nothing when the working tree is as committed, and removes its copy when done", () => {
    const root = repositoryWithTwoSteps();
    const compared = committedSteps(root, FOLDERS);
    expect(compared.note).toBeUndefined();
    expect(compared.root).not.toBe(root);
    compared.dispose();
    expect(() => readFileSync(join(compared.root, "steps/01-first/queue.ts"))).toThrow();
  });

  it("compares a step folder that is not committed yet as it is, and says so", () => {
    const root = repositoryWithTwoSteps();
    mkdirSync(join(root, "steps/03-third"));
    writeFileSync(join(root, "steps/03-third/queue.ts"), "third\n");
    const compared = committedSteps(root, ["steps/02-second", "steps/03-third"]);
    expect(compared.root).toBe(root);
    expect(compared.note).toBe(
      "steps/03-third is not committed yet: comparing the step folders as they are.",
    );
  });

  it("compares the folders as they are outside a git checkout, and says so", () => {
    const root = mkdtempSync(join(tmpdir(), "committed-steps-test-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const compared = committedSteps(root, FOLDERS);
    expect(compared.root).toBe(root);
    expect(compared.note).toBe("Not a git checkout: comparing the step folders as they are.");
  });

  it("ends quietly, exit code 0, when its reader stops reading (`-- diff | head`)", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "lib/workshop/cli/main.ts"), "08", "diff"],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    // Like `head -1`: read the first chunk, then close the pipe.
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.stdout.destroy();
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  });
});
