/**
 * Which file may import which: the two floors of `lib/` and the steps between them.
 *
 * - The ground floor (`lib/` outside `lib/workshop/`) is what a queue is built on: the step
 *   contract, jobs, events, connections. It imports nothing above it.
 * - A step's queue (its folder, less `demo/` and tests) imports the ground floor only, and
 *   never another step: each step is a snapshot whose diff against the step before is the
 *   lesson.
 * - The workshop floor (`lib/workshop/`: CLI, services, benchmarks, docs) and a step's
 *   demonstration (`demo/`) sit above both. They reach the steps through the contract,
 *   by folder name, never by a static import of one step's files.
 *
 * `test/floors.test.ts` runs it in every `npm test`, and so in CI.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { REPO_ROOT } from "../../paths.ts";

/** An import that breaks the floors, and the rule it breaks. */
export interface FloorViolation {
  readonly file: string;
  readonly imported: string;
  readonly rule: string;
}

const STATIC_OR_DYNAMIC_IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)"(\.{1,2}\/[^"]+)"/g;

type Place =
  | { readonly floor: "ground" }
  | { readonly floor: "workshop" }
  | { readonly floor: "queue"; readonly step: string }
  | { readonly floor: "demo"; readonly step: string }
  | { readonly floor: "test" };

function placeOf(path: string): Place {
  const [top, second = "", third] = path.split("/");
  if (top === "lib") return second === "workshop" ? { floor: "workshop" } : { floor: "ground" };
  if (top === "steps" && third !== undefined) {
    if (path.endsWith(".test.ts")) return { floor: "test" };
    return third === "demo" ? { floor: "demo", step: second } : { floor: "queue", step: second };
  }
  return { floor: "test" };
}

/** Why `from` may not import `to`, or `undefined` when it may. */
function ruleBroken(from: Place, to: Place): string | undefined {
  switch (from.floor) {
    case "ground":
      return to.floor === "ground" ? undefined : "the ground floor of lib/ imports only itself";
    case "queue":
      if (to.floor === "ground") return undefined;
      if (to.floor === "queue" && to.step === from.step) return undefined;
      return "a step's queue imports the ground floor of lib/ and its own files only";
    case "demo":
      if (to.floor === "queue" || to.floor === "demo") {
        return to.step === from.step
          ? undefined
          : "a demonstration opens other steps through the contract";
      }
      return to.floor === "test" ? "a demonstration does not import tests" : undefined;
    case "workshop":
      return to.floor === "ground" || to.floor === "workshop"
        ? undefined
        : "the workshop floor reaches steps through the contract, not by import";
    case "test":
      return undefined;
  }
}

function* typescriptFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Every import in `lib/` and `steps/` that runs the wrong way. */
export function findFloorViolations(root: string = REPO_ROOT): FloorViolation[] {
  const violations: FloorViolation[] = [];
  for (const top of ["lib", "steps"]) {
    for (const absolute of typescriptFiles(join(root, top))) {
      const file = relative(root, absolute).split(sep).join("/");
      const source = readFileSync(absolute, "utf8");
      for (const match of source.matchAll(STATIC_OR_DYNAMIC_IMPORT)) {
        const imported = relative(root, resolve(dirname(absolute), match[1] ?? ""))
          .split(sep)
          .join("/");
        const rule = ruleBroken(placeOf(file), placeOf(imported));
        if (rule) violations.push({ file, imported, rule });
      }
    }
  }
  return violations;
}
