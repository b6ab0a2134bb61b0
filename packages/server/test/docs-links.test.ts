import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The project's documentation stands on its own: no file points into the design folder that sits next
 * to the repository during development (users of the project never have it), every relative Markdown
 * link of the docs resolves, and every section a comment or a page cites in docs/protocol.md or
 * docs/busifavor.md exists.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const TEXT_FILE = /\.(?:[cm]?[jt]s|json|md|ya?ml|txt|sh)$/;

/** Tracked files (git), or every file outside node_modules, dist and .git when git is unavailable. */
function projectFiles(): string[] {
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
  } catch {
    files = walk(ROOT).map((f) => relative(ROOT, f).split(sep).join('/'));
  }
  return files.filter(
    (f) =>
      f !== '' && TEXT_FILE.test(f) && !/(^|\/)(node_modules|dist)\//.test(f) && existsSync(join(ROOT, f)),
  );
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === '.git') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

const files = projectFiles();
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/**
 * A path into the outside design folder (its `docs` or `seeds`, or any relative path up to it). Built
 * from pieces so that this file does not match itself.
 */
const OUTSIDE = 'shared';
const OUTSIDE_LINK = new RegExp([`${OUTSIDE}/docs`, `${OUTSIDE}/seeds`, `\\.\\./${OUTSIDE}`].join('|'));

/** Markdown files whose relative links must resolve. */
const MARKDOWN = files.filter((f) => /^(docs\/[^/]+|README|packages\/[^/]+\/README)\.md$/.test(f));

/** Section numbers (`1`, `1.3`) of the numbered headings of a page. */
function sectionsOf(page: string): Set<string> {
  const numbers = [...read(page).matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)].map((m) => m[1] as string);
  return new Set(numbers);
}

/** The cited pages whose sections are checked. */
const NUMBERED_PAGES = ['protocol.md', 'busifavor.md'] as const;

describe('docs stand on their own', () => {
  it('checks a meaningful set of files', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(MARKDOWN).toContain('README.md');
    expect(MARKDOWN).toContain('docs/protocol.md');
  });

  it('no file points into the design folder outside the repository', () => {
    const offenders = files.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, i) => (OUTSIDE_LINK.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offenders).toEqual([]);
  });

  it('every relative Markdown link in README.md and docs/*.md resolves to a file', () => {
    const broken: string[] = [];
    for (const file of MARKDOWN) {
      // Code is not prose: a `[x](y)` inside a fence or a code span is no link.
      const text = read(file)
        .replace(/^```[\s\S]*?^```/gm, '')
        .replace(/`[^`\n]*`/g, '');
      for (const match of text.matchAll(/\[[^\]\n]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = match[1] as string;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
        const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
        if (!existsSync(resolve(ROOT, dirname(file), path))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every docs/… page a comment names at the repository root exists', () => {
    const missing = files.flatMap((file) =>
      [...read(file).matchAll(/(?<![\w./-])docs\/[\w./-]+\.md/g)]
        .map((m) => m[0])
        .filter((page) => !existsSync(join(ROOT, page)))
        .map((page) => `${file}: ${page}`),
    );
    expect(missing).toEqual([]);
  });

  it('every cited section of protocol.md and busifavor.md exists', () => {
    const sections = Object.fromEntries(NUMBERED_PAGES.map((p) => [p, sectionsOf(`docs/${p}`)]));
    const unknown: string[] = [];
    // `protocol.md §1.3`, `docs/busifavor.md §3.3/§8.2`, `[busifavor.md](busifavor.md) §6.6, §7.3 and §7.4`,
    // `busifavor.md §4.4–4.5`: every number of the run must be a heading of that page.
    const citation =
      /\b(protocol|busifavor)\.md(?:\]\([^)\s]*\))?((?:(?:\s*(?:,|\/|and|–)\s*|\s+)§\d+(?:\.\d+)*(?:–§?\d+(?:\.\d+)*)?)+)/g;
    for (const file of files) {
      for (const match of read(file).matchAll(citation)) {
        const page = `${match[1]}.md` as (typeof NUMBERED_PAGES)[number];
        for (const number of (match[2] as string).matchAll(/\d+(?:\.\d+)*/g)) {
          if (!sections[page]?.has(number[0])) unknown.push(`${file}: ${page} §${number[0]}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });
});
