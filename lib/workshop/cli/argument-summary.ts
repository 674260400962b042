/**
 * A job's `arguments` schema in one line, for `enqueue --help`:
 * `{ ms: integer 0…2147483647 }`.
 *
 * Rendered from the schema's JSON Schema (`z.toJSONSchema`), which says the
 * same in a form anyone can read but which takes six lines for one field;
 * this reads the few keywords the workshop's jobs use and shows anything
 * else as JSON Schema, so nothing is hidden.
 *
 * @module
 */
import { z } from "zod";
import type { JobDefinition } from "../../jobs/job.ts";

type Schema = { readonly [keyword: string]: unknown };

/** `any JSON` for a job without a schema. */
export function summarizeArguments(definition: JobDefinition): string {
  if (definition.arguments === undefined) return "any JSON";
  return describe(z.toJSONSchema(definition.arguments) as Schema);
}

function describe(schema: Schema): string {
  switch (schema.type) {
    case "object":
      return describeObject(schema);
    case "integer":
    case "number":
      return `${schema.type}${describeRange(schema)}`;
    case "string":
      return `string${describeLength(schema)}`;
    case "boolean":
    case "null":
      return schema.type;
    case "array":
      return `${isSchema(schema.items) ? describe(schema.items) : "any JSON"}[]`;
    default: {
      const { $schema: _, ...rest } = schema;
      return JSON.stringify(rest);
    }
  }
}

function describeObject(schema: Schema): string {
  const properties = isSchema(schema.properties) ? Object.entries(schema.properties) : [];
  const required = Array.isArray(schema.required) ? schema.required : [];
  const fields = properties.map(
    ([key, value]) =>
      `${key}${required.includes(key) ? "" : "?"}: ${isSchema(value) ? describe(value) : "any JSON"}`,
  );
  const open = schema.additionalProperties !== false;
  if (fields.length === 0) return open ? "any object" : "{}";
  return `{ ${fields.join(", ")}${open ? ", …" : ""} }`;
}

/** ` 0…100`, ` ≥ 1`, ` > 0`; nothing for the bounds of a safe integer, which every integer has. */
function describeRange(schema: Schema): string {
  const bound = (value: unknown) =>
    typeof value === "number" && Math.abs(value) !== Number.MAX_SAFE_INTEGER ? value : undefined;
  const min = bound(schema.minimum);
  const max = bound(schema.maximum);
  const above = bound(schema.exclusiveMinimum);
  const below = bound(schema.exclusiveMaximum);
  if (min !== undefined && max !== undefined) return ` ${min}…${max}`;
  const parts = [
    min === undefined ? "" : `≥ ${min}`,
    above === undefined ? "" : `> ${above}`,
    max === undefined ? "" : `≤ ${max}`,
    below === undefined ? "" : `< ${below}`,
  ].filter(Boolean);
  return parts.length === 0 ? "" : ` ${parts.join(", ")}`;
}

function describeLength(schema: Schema): string {
  const min = typeof schema.minLength === "number" ? schema.minLength : undefined;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : undefined;
  if (min === undefined && max === undefined) return "";
  if (max === undefined) return ` (${min}+ characters)`;
  return ` (${min ?? 0}…${max} characters)`;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
