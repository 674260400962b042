/**
 * Arguments are JSON, checked at the door: what goes in comes back unchanged,
 * and what would not is refused with the path to the problem.
 */
import { describe, expect, it } from "vitest";
import { MAX_ARGUMENTS_BYTES, parseArguments, serializeArguments } from "../lib/jobs/arguments.ts";
import {
  ArgumentsTooLargeError,
  CorruptArgumentsError,
  InvalidArgumentsError,
} from "../lib/jobs/errors.ts";

describe("serializeArguments", () => {
  it("accepts plain JSON values and writes what JSON.stringify writes", () => {
    const value = { a: [1, "two", null, true, { b: -0.5 }], "key with spaces": "ü" };
    expect(serializeArguments(value)).toBe(JSON.stringify(value));
  });

  it("accepts objects without a prototype (e.g. from Object.create(null))", () => {
    const bare = Object.assign(Object.create(null) as Record<string, number>, { n: 1 });
    expect(serializeArguments(bare)).toBe('{"n":1}');
  });

  it("accepts the same object twice when it is not a cycle", () => {
    const shared = { id: 1 };
    expect(serializeArguments({ first: shared, second: shared })).toBe(
      '{"first":{"id":1},"second":{"id":1}}',
    );
  });

  it("names the path of a value that JSON would change", () => {
    expect(() => serializeArguments({ user: { tags: ["a", Symbol("b")] } })).toThrow(
      "Job arguments are not JSON at arguments.user.tags[1]: a symbol has no JSON form. Nothing was enqueued.",
    );
  });

  it("refuses Infinity, class instances and typed arrays", () => {
    expect(() => serializeArguments({ x: Number.POSITIVE_INFINITY })).toThrow(
      InvalidArgumentsError,
    );
    class Money {
      cents = 100;
    }
    expect(() => serializeArguments({ price: new Money() })).toThrow(
      /a Money would not survive JSON/,
    );
    expect(() => serializeArguments(new Uint8Array(2))).toThrow(
      /a Uint8Array would not survive JSON/,
    );
  });

  it("measures the limit in UTF-8 bytes, not characters", () => {
    const threeBytes = "€"; // U+20AC is 3 bytes in UTF-8
    const fits = threeBytes.repeat(Math.floor((MAX_ARGUMENTS_BYTES - 2) / 3)); // 2 bytes for the quotes
    expect(() => serializeArguments(fits)).not.toThrow();
    expect(() => serializeArguments(`${fits}€`)).toThrow(ArgumentsTooLargeError);
  });
});

describe("parseArguments", () => {
  it("reads back what serializeArguments wrote", () => {
    const value = { list: [1, 2, { deep: "ok" }], n: Number.MAX_SAFE_INTEGER };
    expect(parseArguments(serializeArguments(value), "1")).toStrictEqual(value);
  });

  it("reports damaged stored arguments with the job's id", () => {
    expect(() => parseArguments("{not json", "17")).toThrow(CorruptArgumentsError);
    expect(() => parseArguments("{not json", "17")).toThrow(
      /Job 17 has stored arguments that are not valid JSON/,
    );
  });
});
