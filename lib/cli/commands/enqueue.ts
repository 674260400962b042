/**
 * `npm run step NN -- enqueue <JobName> [json-args] [--count N]`.
 *
 * @module
 */
import type { JsonValue } from "../../jobs/arguments.ts";
import type { JobRegistry } from "../../jobs/registry.ts";
import type { StepInstance } from "../../step.ts";
import { UsageError } from "../usage-error.ts";

/** Checks the job name and parses the arguments before anything is stored. */
export function parseEnqueueArguments(
  registry: JobRegistry,
  name: string | undefined,
  argsText: string | undefined,
  usage: string,
): { name: string; args: JsonValue } {
  if (name === undefined) throw new UsageError("Missing the job name.", usage);
  // The worker would refuse an unknown name anyway (the registry is an
  // allowlist); refusing here too saves a failed job and says why at once.
  if (!registry.has(name)) {
    throw new UsageError(
      `Unknown job ${JSON.stringify(name)}. Known jobs: ${registry.names().join(", ")}.`,
      usage,
    );
  }
  if (argsText === undefined) return { name, args: registry.lookup(name).exampleArguments };
  try {
    return { name, args: JSON.parse(argsText) as JsonValue };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `The arguments are not JSON (${reason}). Quote them for your shell: '{"userId": 42}'.`,
      usage,
    );
  }
}

export async function runEnqueueCommand(
  instance: StepInstance,
  name: string,
  args: JsonValue,
  count: number,
): Promise<void> {
  const ids = await instance.enqueueMany(Array.from({ length: count }, () => ({ name, args })));
  const shown = ids.length > 5 ? `${ids.slice(0, 3).join(", ")}, …, ${ids.at(-1)}` : ids.join(", ");
  console.log(
    `Enqueued ${ids.length} ${name} job(s) with arguments ${JSON.stringify(args)}: id ${shown}`,
  );
}
