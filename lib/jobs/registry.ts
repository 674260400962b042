/**
 * The registry: which job names a worker is willing to run.
 *
 * The Ruby original looks the job up with `class_name.constantize`, which
 * turns *any* string in the jobs table into a class and calls `new` and
 * `perform` on it. Whoever can write a row — a SQL injection elsewhere in the
 * app, a compromised service sharing the database, a mistyped manual fix —
 * can then make the worker instantiate arbitrary classes. A registry turns
 * that into an allowlist: a name the worker was not told about is a failed
 * job with a clear error, never code that runs.
 *
 * @module
 */
import { UnknownJobError } from "./errors.ts";
import type { JobDefinition } from "./job.ts";

/** The allowlist of jobs one worker runs, by name. */
export class JobRegistry {
  readonly #definitions = new Map<string, JobDefinition>();

  constructor(definitions: Iterable<JobDefinition> = []) {
    for (const definition of definitions) this.register(definition);
  }

  /** Adds a job. Registering two jobs under one name is a bug, so it throws. */
  register(definition: JobDefinition): this {
    if (this.#definitions.has(definition.name)) {
      throw new Error(`A job named ${JSON.stringify(definition.name)} is already registered.`);
    }
    this.#definitions.set(definition.name, definition);
    return this;
  }

  /** The job registered under `name`, or an {@link UnknownJobError}. */
  lookup(name: string): JobDefinition {
    const definition = this.#definitions.get(name);
    if (!definition) throw new UnknownJobError(name, this.names());
    return definition;
  }

  has(name: string): boolean {
    return this.#definitions.has(name);
  }

  names(): string[] {
    return [...this.#definitions.keys()].sort();
  }

  definitions(): JobDefinition[] {
    return this.names().map((name) => this.lookup(name));
  }
}
