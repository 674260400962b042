/** The registry is an allowlist: only registered names resolve to code. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { UnknownJobError } from "../lib/jobs/errors.ts";
import { defineJob } from "../lib/jobs/job.ts";
import { JobRegistry } from "../lib/jobs/registry.ts";

const hello = defineJob<{ to: string }>({
  name: "Hello",
  description: "greets",
  exampleArguments: { to: "you" },
  perform() {},
});

describe("JobRegistry", () => {
  it("finds a registered job by name", () => {
    expect(new JobRegistry([hello]).lookup("Hello")).toBe(hello);
  });

  it("refuses a name it was not given, listing the ones it knows", () => {
    const registry = new JobRegistry([hello]);
    expect(() => registry.lookup("Kernel.exec")).toThrow(UnknownJobError);
    expect(() => registry.lookup("Kernel.exec")).toThrow(
      /Unknown job "Kernel.exec": this worker only runs registered jobs \(Hello\)/,
    );
  });

  it("refuses to register two jobs under one name", () => {
    expect(() => new JobRegistry([hello, hello])).toThrow(/already registered/);
  });

  it("refuses an example that does not fit the job's own arguments schema", () => {
    expect(() =>
      defineJob({
        name: "Greet",
        description: "greets",
        arguments: z.strictObject({ to: z.string() }),
        exampleArguments: { to: 7 } as unknown as { to: string },
        perform() {},
      }),
    ).toThrow(
      "The exampleArguments of job Greet do not fit its arguments schema (to: Invalid input: expected string, received number): change one or the other.",
    );
  });

  it("refuses names that are not plain identifiers", () => {
    expect(() =>
      defineJob({ name: "drop table; --", description: "", exampleArguments: {}, perform() {} }),
    ).toThrow(/Invalid job name/);
  });
});
