/**
 * Worker settings: each step declares its own (lib/worker-settings.ts), and
 * both ways in — code and the `worker` command — check them against that
 * declaration.
 */
import { describe, expect, it } from "vitest";
import type { Step } from "../lib/step.ts";
import {
  identifier,
  milliseconds,
  queueNames,
  retryBackoff,
  WorkerSettingError,
} from "../lib/worker-settings.ts";
import { runStepCommand } from "./support/cli.ts";
import { steps } from "./support/contract.ts";
import { openForTest } from "./support/open.ts";

describe("kinds of setting, as typed on a command line", () => {
  it("milliseconds: a whole number in its range, nothing else", () => {
    const kind = milliseconds(1, 1000);
    expect(kind.parse("250")).toBe(250);
    for (const text of ["0", "1001", "-5", "1.5", "1e3", "abc", ""]) {
      expect(() => kind.parse(text), text).toThrow(
        `must be a whole number of milliseconds from 1 to 1000, not ${JSON.stringify(text)}.`,
      );
    }
  });

  it("queue names: a comma-separated list, each name as enqueue accepts it", () => {
    const kind = queueNames();
    expect(kind.parse("mail, default")).toEqual(["mail", "default"]);
    expect(() => kind.parse(" , ")).toThrow("names no queue");
    for (const [text, name] of [
      ["mail,", ""],
      ["x'; drop table jobs;--", "x'; drop table jobs;--"],
      ["mail,a b", "a b"],
    ]) {
      expect(() => kind.parse(text ?? ""), text).toThrow(
        `has an invalid queue name ${JSON.stringify(name)}`,
      );
    }
  });

  it("retry backoff: exactly three non-negative numbers", () => {
    const kind = retryBackoff();
    expect(kind.parse("500,10000,0.5")).toEqual({ baseMs: 500, maxMs: 10_000, jitter: 0.5 });
    for (const text of ["500,10000", "500,,0.5", "a,b,c", "-1,10,0", "1,2,3,4"]) {
      expect(() => kind.parse(text), text).toThrow("must be three numbers BASE_MS,MAX_MS,JITTER");
    }
  });

  it("identifiers: no spaces, quotes or empty strings", () => {
    const kind = identifier();
    expect(kind.parse("17")).toBe("17");
    for (const text of ["", "a b", "x'y"]) expect(() => kind.parse(text), text).toThrow("must be");
  });
});

const WITH_SETTINGS = steps.filter((step) => Object.keys(step.workerSettings).length > 0);

describe.each(WITH_SETTINGS.map((step) => [`${step.id}-${step.slug}`, step] as const))(
  "step %s checks the settings it is given in code",
  (_, step: Step) => {
    it.each(Object.keys(step.workerSettings))("refuses a value %s cannot hold", async (name) => {
      const instance = await openForTest(step, "settings");
      expect(() => instance.startWorker({ [name]: "not a value" })).toThrow(
        new RegExp(`Worker setting ${name} must be`),
      );
      expect(() => instance.startWorker({ [name]: "not a value" })).toThrow(WorkerSettingError);
      if (instance.supervise) {
        const supervise = instance.supervise.bind(instance);
        await expect(
          (async () =>
            supervise({
              processes: 1,
              workerArgs: [],
              out: { line() {} },
              [name]: "not a value",
            }))(),
        ).rejects.toThrow(WorkerSettingError);
      }
    });
  },
);

describe("the worker command reads its flags from the step", () => {
  it("says it ignores another step's setting, naming the steps that have it, and refuses a flag no step has", async () => {
    const ignored = await runStepCommand("05", "worker", "--shutdown-timeout", "5", "--help");
    expect(ignored.code).toBe(0);
    // Step 08 and the steps built on it, which keep its settings.
    expect(ignored.stderr).toMatch(
      /note: step 05-claims has no --shutdown-timeout \(a setting of steps? 08(, \d\d)*\): ignored\./,
    );
    const unknown = await runStepCommand("05", "worker", "--shutdown-timout", "5");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--shutdown-timout");
  });

  it("refuses a queue name enqueue would refuse, before starting anything", async () => {
    const result = await runStepCommand("07", "worker", "--queues", "x'; drop table jobs;--");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--queues has an invalid queue name "x'; drop table jobs;--"`);
  });

  it("lists the step's own settings, with their defaults, in worker --help", async () => {
    const result = await runStepCommand("08", "worker", "--help");
    expect(result.code).toBe(0);
    for (const setting of Object.values(
      steps.find((step) => step.id === "08")?.workerSettings ?? {},
    )) {
      expect(result.stdout).toContain(`--${setting.flag} ${setting.kind.placeholder}`);
    }
    expect(result.stdout).toContain("(default: 10000)");
  });
});
