/**
 * The base's `index.ts` made to say it is the target step: the practice
 * folder holds step 03's code, but its `step` object is step 05's — id, slug,
 * title, what it builds on, and the guarantees it declares. The contract
 * suite then holds that code to step 05's promises, and the attendee changes
 * the code (not the list) until it keeps them.
 *
 * Rewritten as text, field by field, rather than generated: the rest of the
 * file (how the base opens its queue) is the attendee's starting point and
 * stays as the base wrote it. Every step's `index.ts` writes these fields the
 * same way (`id: "05",` …, `guarantees: [ … ],`); one that does not is an
 * error here, not a half-renamed copy.
 *
 * @module
 */
import type { Step } from "../../step.ts";

/** `index.ts` of `base`, rewritten to declare `target`'s identity and guarantees. */
export function withTargetIdentity(source: string, base: Step, target: Step): string {
  const guarantees = target.guarantees.map((guarantee) => `    "${guarantee}",`).join("\n");
  const fields: readonly [string, RegExp, string][] = [
    ["id", /^ {2}id: "\d{2}",$/m, `  id: ${JSON.stringify(target.id)},`],
    ["slug", /^ {2}slug: "[a-z0-9-]+",$/m, `  slug: ${JSON.stringify(target.slug)},`],
    ["title", /^ {2}title:\s+"(?:[^"\\]|\\.)*",$/m, `  title: ${JSON.stringify(target.title)},`],
    [
      "buildsOn",
      /^ {2}buildsOn: (?:"\d{2}"|null),$/m,
      `  buildsOn: ${JSON.stringify(target.buildsOn)},`,
    ],
    [
      "guarantees",
      // With the comment above it, which explains the base's list.
      /^(?: {2}\/\/.*\n)*^ {2}guarantees: \[[^\]]*\],$/m,
      [
        `  // Step ${target.id}'s guarantees: \`npm run practice ${target.id} -- check\` holds this`,
        `  // code to them. Change the code until it keeps them, not this list.`,
        `  guarantees: [\n${guarantees}\n  ],`,
      ].join("\n"),
    ],
  ];
  let rewritten = source;
  for (const [name, pattern, replacement] of fields) {
    if (!pattern.test(rewritten)) {
      throw new Error(
        `steps/${base.id}-${base.slug}/index.ts does not write \`${name}\` as every step does; practice mode cannot rename it.`,
      );
    }
    rewritten = rewritten.replace(pattern, replacement);
  }
  return rewritten;
}
