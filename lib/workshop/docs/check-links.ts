/**
 * `npm run docs:links`: every relative link and `#anchor` in the repository's
 * Markdown leads to a file, and to a heading, both on GitHub and on the docs
 * site.
 *
 * TypeDoc (with `treatWarningsAsErrors`) already fails `npm run docs` on a
 * link to a missing file, and on an anchor into another page of the site. It
 * misses three things this check exists for: an anchor into the same page
 * (`[…](#nope)` is rendered as it is); a link that only GitHub resolves,
 * because TypeDoc and GitHub make different anchors of one heading; and
 * README.md, which is GitHub's front page but not part of the site. So this
 * reads the Markdown itself, the way both renderers do, as far as the
 * repository's Markdown needs: `#` headings, inline links and images,
 * reference definitions; code is not prose, front matter is not Markdown.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../../paths.ts";
import { runMain } from "../cli/run-main.ts";

/** A link that leads nowhere: where it is, what it says, and why it fails. */
export interface BrokenLink {
  /** The Markdown file, relative to the root. */
  file: string;
  /** 1-based line of the link. */
  line: number;
  target: string;
  reason: string;
}

/** The anchors GitHub and the docs site give one heading. */
interface Anchors {
  github: string;
  site: string;
}

interface Markdown {
  links: { line: number; target: string }[];
  headings: Anchors[];
}

/**
 * Checks the links in `files` (paths relative to `root`); links into other
 * Markdown files are checked against that file's headings, whether or not it
 * is in `files`.
 */
export function checkLinks(root: string, files: readonly string[]): BrokenLink[] {
  const parsed = new Map<string, Markdown>();
  const markdownAt = (path: string): Markdown => {
    let markdown = parsed.get(path);
    if (!markdown) {
      markdown = parseMarkdown(readFileSync(path, "utf8"));
      parsed.set(path, markdown);
    }
    return markdown;
  };

  const broken: BrokenLink[] = [];
  for (const file of files) {
    const path = join(root, file);
    for (const { line, target } of markdownAt(path).links) {
      const reason = whyBroken(root, path, target, markdownAt);
      if (reason) broken.push({ file, line, target, reason });
    }
  }
  return broken;
}

function whyBroken(
  root: string,
  from: string,
  target: string,
  markdownAt: (path: string) => Markdown,
): string | null {
  // Anything with a scheme (https:, mailto:) or a host is not ours to check.
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) return null;
  const hash = target.indexOf("#");
  const pathPart = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, "");
  const anchor = hash < 0 ? "" : decodeURIComponent(target.slice(hash + 1));

  const to = pathPart === "" ? from : resolve(dirname(from), decodeURIComponent(pathPart));
  if (!to.startsWith(resolve(root) + sep)) return "outside the repository";
  if (!existsSync(to)) return "no such file";
  // GitHub shows a folder, but TypeDoc can only copy or link to a file.
  if (statSync(to).isDirectory()) return "a folder, not a file: the docs site cannot link to it";
  // Anchors into other kinds of file (source lines on GitHub) are not headings.
  if (anchor === "" || !to.endsWith(".md")) return null;

  const headings = markdownAt(to).headings;
  if (headings.some((h) => h.github === anchor && h.site === anchor)) return null;
  const onGitHub = headings.find((h) => h.github === anchor);
  if (onGitHub) return `only GitHub has this anchor; on the docs site it is #${onGitHub.site}`;
  const onSite = headings.find((h) => h.site === anchor);
  if (onSite) return `only the docs site has this anchor; on GitHub it is #${onSite.github}`;
  return "no heading with this anchor";
}

/** The links and headings of a Markdown text, outside code and front matter. */
function parseMarkdown(text: string): Markdown {
  const lines = text.split("\n");
  const links: Markdown["links"] = [];
  const headingTexts: { github: string; site: string }[] = [];
  let start = 0;
  if (lines[0] === "---") start = lines.indexOf("---", 1) + 1;
  let fence: string | null = null;

  for (let index = start; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (fence !== null) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line)?.[1];
      if (close && close[0] === fence[0] && close.length >= fence.length) fence = null;
      continue;
    }
    const open = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (open) {
      fence = open;
      continue;
    }
    const prose = line.replace(/<!--.*?-->/g, "");
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(prose)?.[1];
    if (heading !== undefined) headingTexts.push(headingText(heading));
    const withoutCode = prose.replace(/(`+).+?\1/g, "");
    for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*(<[^>]*>|[^\s)]+)/g)) {
      links.push({ line: index + 1, target: unbracket(match[1] ?? "") });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(withoutCode)?.[1];
    if (definition) links.push({ line: index + 1, target: unbracket(definition) });
  }

  const github = uniqueSlugs(headingTexts.map((h) => githubSlug(h.github)));
  const site = uniqueSlugs(headingTexts.map((h) => siteSlug(h.site)));
  return { links, headings: github.map((slug, i) => ({ github: slug, site: site[i] ?? "" })) };
}

/**
 * A heading's text as each renderer slugs it: links and images by their text,
 * without emphasis markers, tags or escapes. GitHub keeps the text of code
 * spans; TypeDoc takes only the heading's text tokens, so code spans vanish.
 */
function headingText(markdown: string): { github: string; site: string } {
  const plain = (prose: string) =>
    prose
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .replace(/(\*+|_+)(\S(?:.*?\S)?)\1/g, "$2")
      .replace(/\\(.)/g, "$1");
  let github = "";
  let site = "";
  let last = 0;
  for (const match of markdown.matchAll(/(`+)(.+?)\1/g)) {
    const before = plain(markdown.slice(last, match.index));
    github += before + (match[2] ?? "").trim();
    site += before;
    last = match.index + match[0].length;
  }
  const rest = plain(markdown.slice(last));
  return { github: (github + rest).trim(), site: (site + rest).trim() };
}

/** github-slugger, as GitHub uses it: keep letters, marks, numbers, `_`, `-`, spaces. */
function githubSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** TypeDoc 0.28's Slugger (lowercased): it also collapses the first run of `-`. */
function siteSlug(text: string): string {
  const slug = text
    .replace(/[\u2000-\u206F\u2E00-\u2E7F\\'!"#$%&()*+,./:;<=>?@[\]^`{|}~]/g, "")
    .replace(/\s/g, "-")
    .replace(/--+/, "-")
    .toLowerCase();
  return slug || "_";
}

/** Both renderers number a repeated anchor: `x`, `x-1`, `x-2`. */
function uniqueSlugs(slugs: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return slugs.map((slug) => {
    let count = seen.get(slug);
    let unique = slug;
    if (count !== undefined) {
      do {
        count++;
        unique = `${slug}-${count}`;
      } while (seen.has(unique));
    }
    seen.set(slug, count ?? 0);
    return unique;
  });
}

function unbracket(target: string): string {
  return target.startsWith("<") ? target.slice(1, -1) : target;
}

/** The Markdown files git knows of: committed or new, not ignored, not deleted. */
function markdownFiles(root: string): string[] {
  const listed = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.md"],
    { cwd: root, encoding: "utf8" },
  );
  return listed
    .split("\0")
    .filter((file) => file !== "" && existsSync(join(root, file)))
    .sort();
}

async function main(): Promise<number> {
  const files = markdownFiles(REPO_ROOT);
  const broken = checkLinks(REPO_ROOT, files);
  for (const link of broken) {
    console.error(`${link.file}:${link.line} → ${link.target}: ${link.reason}`);
  }
  if (broken.length > 0) {
    console.error(`${broken.length} broken links in ${files.length} Markdown files.`);
    return 1;
  }
  console.log(`Every link in ${files.length} Markdown files leads somewhere.`);
  return 0;
}

// Run as a command (`tsx lib/workshop/docs/check-links.ts`), not when a test imports it.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMain(main);
}
