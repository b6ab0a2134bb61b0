import fc from 'fast-check';

/**
 * JSON as the fuzzer writes it: plain values, text written verbatim ({@link RawJson}: numbers JSON.parse
 * cannot keep, nesting too deep to build as objects, invalid tokens), and objects whose members may
 * repeat ({@link RepeatedMembers}: duplicate keys, `__proto__` as a member name).
 */
export type Json = null | boolean | number | string | Json[] | JsonObject | RawJson | RepeatedMembers;

/** A plain JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** JSON text put on the wire exactly as given. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written member by member, so a key may appear twice and any name is a plain member. */
export class RepeatedMembers {
  constructor(readonly members: ReadonlyArray<readonly [string, Json]>) {}
}

function isObject(value: Json): value is JsonObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof RawJson) &&
    !(value instanceof RepeatedMembers)
  );
}

/** The members of an object node (plain or repeated), or undefined for any other node. */
function membersOf(value: Json): ReadonlyArray<readonly [string, Json]> | undefined {
  if (value instanceof RepeatedMembers) return value.members;
  if (isObject(value)) return Object.entries(value);
  return undefined;
}

/** Writes a fuzzed value as JSON text (JSON.stringify escapes lone surrogates, so they stay valid JSON). */
export function writeJson(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(writeJson).join(',')}]`;
  const members = membersOf(value) ?? [];
  return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`).join(',')}}`;
}

/** A position in a value: member names and array indexes from the root. */
type NodePath = ReadonlyArray<string | number>;

/** Every node of a value, the root first. Members of a repeated object are addressed by index. */
function nodePaths(value: Json, at: NodePath = [], out: NodePath[] = []): NodePath[] {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) nodePaths(v, [...at, i], out);
  } else if (value instanceof RepeatedMembers) {
    for (const [i, [, v]] of value.members.entries()) nodePaths(v, [...at, i], out);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) nodePaths(v, [...at, k], out);
  }
  return out;
}

/** A copy of `root` with the node at `path` replaced by `change(node)`. */
function replaceAt(root: Json, path: NodePath, change: (node: Json) => Json): Json {
  const [head, ...rest] = path;
  if (head === undefined) return change(root);
  if (Array.isArray(root) && typeof head === 'number') {
    return root.map((v, i) => (i === head ? replaceAt(v, rest, change) : v));
  }
  if (root instanceof RepeatedMembers && typeof head === 'number') {
    return new RepeatedMembers(
      root.members.map(([k, v], i) => [k, i === head ? replaceAt(v, rest, change) : v] as const),
    );
  }
  if (isObject(root) && typeof head === 'string') {
    return new RepeatedMembers(
      Object.entries(root).map(([k, v]) => [k, k === head ? replaceAt(v, rest, change) : v] as const),
    );
  }
  return root;
}

/** The largest text {@link replicate} writes: past the 3 MiB body limit, short of memory trouble. */
const MAX_REPLICATED_CHARS = 4_000_000;

/** An array of `n` copies of `value`, as text; fewer copies when `n` of them would pass 4 MB. */
function replicate(value: Json, n: number): RawJson {
  const unit = writeJson(value);
  const count = Math.max(1, Math.min(n, Math.floor(MAX_REPLICATED_CHARS / Math.max(1, unit.length + 1))));
  return new RawJson(`[${new Array<string>(count).fill(unit).join(',')}]`);
}

/** A change to one node, given the node. */
type NodeChange = (node: Json) => Json;

let anyTextArbitrary: fc.Arbitrary<string> | undefined;
let graphemeTextArbitrary: fc.Arbitrary<string> | undefined;

/**
 * Up to 40 code points of any kind, each from a range worth trying: C0 controls, ASCII, Latin-1 and
 * C1, the rest of the BMP, surrogate halves (alone), astral planes. Built here rather than with
 * `fc.string({ unit: 'binary' })`, which takes seconds to build on first use.
 */
export function anyText(): fc.Arbitrary<string> {
  anyTextArbitrary ??= fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 0x1f }),
        fc.integer({ min: 0x20, max: 0x7f }),
        fc.integer({ min: 0x80, max: 0xff }),
        fc.integer({ min: 0x100, max: 0xd7ff }),
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.integer({ min: 0xe000, max: 0xffff }),
        fc.integer({ min: 0x10000, max: 0x10ffff }),
      ),
      { maxLength: 40 },
    )
    .map((codePoints) =>
      codePoints.map((c) => (c <= 0xffff ? String.fromCharCode(c) : String.fromCodePoint(c))).join(''),
    );
  return anyTextArbitrary;
}

/** Up to 40 printable graphemes (shared like {@link anyText}). */
function graphemeText(): fc.Arbitrary<string> {
  graphemeTextArbitrary ??= fc.string({ unit: 'grapheme', maxLength: 40 });
  return graphemeTextArbitrary;
}

/** Field lengths WeChat's schemas put limits at, and the lengths either side. */
const EDGE_LENGTHS = [
  0, 1, 7, 8, 9, 14, 15, 16, 20, 21, 28, 31, 32, 33, 64, 65, 127, 128, 129, 256, 257, 1025,
];

/** Strings that break naive code: encodings, control characters, numerals that are not ASCII, injections. */
const AWKWARD_STRINGS = [
  '',
  ' ',
  '\t',
  '\r\n',
  '\u0000',
  'a\u0000b',
  '\u0001',
  '\u0008',
  '\u001b[31m',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\uffff',
  '\ufffd',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\ude00x',
  '😀',
  '𠜎',
  '中文字符',
  'é',
  'e\u0301',
  'İ',
  'ß',
  'ǅ',
  '١٢٣',
  '１２３',
  '۱۲۳۴۵۶۷۸۹',
  'null',
  'undefined',
  'true',
  'NaN',
  '-0',
  '1e999',
  '0x10',
  '%00',
  '%ZZ',
  '%2e%2e%2f',
  '../../etc/passwd',
  '..\\..',
  '/',
  '?',
  '#',
  '&',
  '"',
  "'",
  '\\',
  '\\u0000',
  "' OR '1'='1",
  '"; DROP TABLE stocks; --',
  '$1',
  '%s%s%n',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder is the point of this string
  '${x}',
  '{{x}}',
  '<script>',
  '*',
  '{}',
  '[]',
  'https://example.invalid/a',
  'https://127.0.0.1:9/x',
  'http://[::1]:9/x',
  'https://localhost./a',
  'javascript:x',
  '2026-01-01T00:00:00+08:00',
  '2026-01-01T00:00:00Z',
  '2026-01-01T00:00:00',
  '2026-02-30T00:00:00+08:00',
  '2026-12-31T23:59:60+08:00',
  '2026-01-01T00:00:00.1234567891+08:00',
  '2026-01-01T00:00:00+25:00',
  '0000-01-01T00:00:00+08:00',
  '9999-12-31T23:59:59-14:00',
  '+275760-09-13T00:00:00Z',
  '2026-01-01t00:00:00+08:00',
  '2026-01-01 00:00:00+08:00',
];

/** Characters repeated to a chosen length: ASCII, a digit, 3-byte CJK, a 4-byte emoji. */
const REPEATED = ['a', '9', '中', '😀', '\u0000', ' '];

/** A string from the awkward set, of an edge length, random, or digits (most identifiers are digits). */
export function awkwardString(dictionary: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...AWKWARD_STRINGS) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(...REPEATED), fc.constantFrom(...EDGE_LENGTHS))
        .map(([c, n]) => c.repeat(n)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('a', '中', '9'), fc.constantFrom(4096, 65_536, 300_000))
        .map(([c, n]) => c.repeat(n)),
    },
    { weight: 3, arbitrary: anyText() },
    { weight: 2, arbitrary: graphemeText() },
    { weight: 2, arbitrary: fc.stringMatching(/^-?\d{1,40}$/) },
    ...(dictionary.length > 0
      ? [
          { weight: 4, arbitrary: fc.constantFrom(...dictionary) },
          {
            weight: 3,
            arbitrary: fc
              .tuple(fc.constantFrom(...dictionary), fc.constantFrom(...AWKWARD_STRINGS), fc.boolean())
              .map(([word, odd, before]) => (before ? odd + word : word + odd)),
          },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom(...dictionary)
              .map((w) => (w === w.toUpperCase() ? w.toLowerCase() : w.toUpperCase())),
          },
        ]
      : []),
  );
}

/** Numbers at the edges of every integer width, and JSON number texts JavaScript cannot keep exactly. */
export function awkwardNumber(): fc.Arbitrary<Json> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom<Json>(
        0,
        -1,
        1,
        1.5,
        0.1,
        100,
        500_000,
        500_001,
        1_000_000_000,
        1_000_000_001,
        2 ** 31 - 1,
        2 ** 31,
        2 ** 32,
        -(2 ** 31) - 1,
        Number.MAX_SAFE_INTEGER,
        -Number.MAX_SAFE_INTEGER,
        1e21,
        1.7976931348623157e308,
        5e-324,
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          '-0',
          '9007199254740993',
          '123456789012345678901234567890',
          '1e309',
          '-1e309',
          '1E2',
          '1e-7',
          '0.0000000000000000000000001',
          '100.0',
          `1${'0'.repeat(400)}`,
          '0e0',
        )
        .map((t) => new RawJson(t)),
    },
    { weight: 2, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );
}

/** Text that is not JSON at all, in the place of one value. */
const BAD_TOKENS = [
  'NaN',
  'Infinity',
  'undefined',
  "'x'",
  '0x10',
  '+1',
  '.5',
  '01',
  '1.',
  'tru',
  '"\\x41"',
  '"\\u12"',
  '"a\nb"',
  '"a\tb"',
  '"\u0000"',
];

/** Nesting far deeper than any schema: arrays or objects, written as text. */
export function deepNesting(): fc.Arbitrary<RawJson> {
  return fc
    .tuple(fc.constantFrom('array', 'object', 'mixed'), fc.constantFrom(64, 1_000, 10_000, 100_000, 400_000))
    .map(([kind, depth]) => {
      if (kind === 'array') return new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      if (kind === 'object') return new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
      return new RawJson(`${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}`);
    });
}

/** Member names: the route's own, path parameters repeated in the body, prototype names, odd text. */
export function memberName(dictionary: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'stock_id',
        'coupon_code',
        'openid',
        'appid',
        'sp_mchid',
        'mchid',
        'scope',
        'id',
      ),
    },
    { weight: 2, arbitrary: awkwardString() },
    ...(dictionary.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...dictionary) }] : []),
  );
}

/** What can replace any node: another type, an awkward scalar, the node wrapped, a big collection. */
function nodeReplacement(dictionary: readonly string[]): fc.Arbitrary<NodeChange> {
  const scalar: fc.Arbitrary<Json> = fc.oneof(
    { weight: 5, arbitrary: awkwardString(dictionary) },
    { weight: 4, arbitrary: awkwardNumber() },
    { weight: 2, arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, [null], { '': null }) },
    { weight: 1, arbitrary: fc.constantFrom(...BAD_TOKENS).map((t) => new RawJson(t)) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((t) => new RawJson(t)) },
  );
  return fc.oneof(
    { weight: 8, arbitrary: scalar.map((v) => () => v) },
    { weight: 2, arbitrary: fc.constant<NodeChange>((old) => [old]) },
    { weight: 1, arbitrary: fc.constant<NodeChange>((old) => replicate(old, 3)) },
    { weight: 2, arbitrary: fc.constant<NodeChange>((old) => ({ value: old })) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 2, max: 40 }).map<NodeChange>((depth) => (old) => {
        let v = old;
        for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
        return v;
      }),
    },
    { weight: 1, arbitrary: deepNesting().map<NodeChange>((raw) => () => raw) },
    {
      // The node's own value in another type: "100" for 100, 100 for "100", "true" for true.
      weight: 3,
      arbitrary: fc.constant<NodeChange>((old) => {
        if (typeof old === 'number') return String(old);
        if (typeof old === 'boolean') return String(old);
        if (typeof old === 'string') return /^-?\d+(\.\d+)?$/.test(old) ? new RawJson(old) : old.length;
        if (Array.isArray(old)) return old[0] ?? null;
        return writeJson(old);
      }),
    },
    {
      // Big collections: many elements or many members.
      weight: 1,
      arbitrary: fc
        .constantFrom(100, 5_000, 50_000)
        .map<NodeChange>((n) => (old) => replicate(n > 5_000 ? 0 : old, n)),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(100, 5_000)
        .map<NodeChange>(
          (n) => () => new RepeatedMembers(Array.from({ length: n }, (_, i) => [`k${i}`, i] as const)),
        ),
    },
  );
}

/** A change to an object node: drop a member, add one, repeat one (duplicate key written as text). */
function memberChange(dictionary: readonly string[]): fc.Arbitrary<NodeChange> {
  const value: fc.Arbitrary<Json> = fc.oneof(
    awkwardString(dictionary),
    awkwardNumber(),
    fc.constant({ x: 1 }),
  );
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc.nat().map<NodeChange>((pick) => (old) => {
        const members = membersOf(old);
        if (!members || members.length === 0) return old;
        const drop = pick % members.length;
        return new RepeatedMembers(members.filter((_, i) => i !== drop));
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(memberName(dictionary), value).map<NodeChange>(([name, v]) => (old) => {
        const members = membersOf(old);
        return members ? new RepeatedMembers([...members, [name, v]]) : old;
      }),
    },
    {
      // The same key twice, the fuzzed value first or last (which one wins differs between parsers).
      weight: 3,
      arbitrary: fc.tuple(fc.nat(), value, fc.boolean()).map<NodeChange>(([pick, v, last]) => (old) => {
        const members = membersOf(old);
        if (!members || members.length === 0) return old;
        const [name] = members[pick % members.length] as readonly [string, Json];
        const extra = [name, v] as const;
        return new RepeatedMembers(last ? [...members, extra] : [extra, ...members]);
      }),
    },
  );
}

/** One change at a node chosen by index (modulo the number of nodes). */
type Mutation = (root: Json) => Json;

function mutation(dictionary: readonly string[]): fc.Arbitrary<Mutation> {
  return fc
    .tuple(
      fc.nat(),
      fc.oneof(
        { weight: 3, arbitrary: nodeReplacement(dictionary) },
        { weight: 2, arbitrary: memberChange(dictionary) },
      ),
    )
    .map(([pick, change]) => (root: Json) => {
      const paths = nodePaths(root);
      const path = paths[pick % paths.length] as NodePath;
      return replaceAt(root, path, change);
    });
}

/**
 * 1–3 mutations to apply to a valid-ish body: a field of another type, size or encoding, deeper,
 * repeated, missing or added. `dictionary` holds values worth reusing (the seeded ids). The changes
 * do not depend on the body, so the arbitrary is built once and applied to any body.
 */
export function mutationsArbitrary(dictionary: readonly string[] = []): fc.Arbitrary<(base: Json) => Json> {
  return fc
    .array(mutation(dictionary), { minLength: 1, maxLength: 3 })
    .map((ms) => (base: Json) => ms.reduce<Json>((value, m) => m(value), base));
}

/** A body turned into 1–3 mutations of itself (see {@link mutationsArbitrary}). */
export function mutatedJson(base: Json, dictionary: readonly string[] = []): fc.Arbitrary<Json> {
  return mutationsArbitrary(dictionary).map((mutate) => mutate(base));
}

/** Texts that are not one JSON value: broken, doubled, commented, single-quoted. `T` is the body's text. */
const NOT_JSON = [
  '',
  ' ',
  'null',
  'true',
  '0',
  '"x"',
  '[]',
  '{}',
  '[{}]',
  '{',
  '}',
  '{"a":',
  'T}',
  'T x',
  'TT',
  '/*c*/T',
  '\n\t T \n',
  "{'a':1}",
  '{"a":1,}',
  '{"a" 1}',
];

/**
 * Bytes that are not UTF-8, or not JSON, where a JSON body is expected, made from the body's own
 * text (given later, so the arbitrary is built once): overlong and surrogate UTF-8, a BOM, UTF-16,
 * Latin-1, truncation, random bytes.
 */
export function hostileBodyBytes(): fc.Arbitrary<(text: string) => Buffer> {
  return fc.oneof(
    fc
      .constantFrom(
        Buffer.from([0xff, 0xfe]),
        Buffer.from('{"a":"\xc0\x80"}', 'latin1'),
        Buffer.from('{"a":"\xed\xa0\x80"}', 'latin1'),
        Buffer.from('{"a":"\xe4\xb8"}', 'latin1'),
        Buffer.from('{"a":"\xf4\x90\x80\x80"}', 'latin1'),
        Buffer.from([0x00]),
      )
      .map((bytes) => () => bytes),
    fc.constant((text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])),
    fc.constant((text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])),
    fc.constant((text: string) => Buffer.from(text, 'latin1')),
    fc.uint8Array({ maxLength: 256 }).map((a) => () => Buffer.from(a)),
    fc.nat().map((cut) => (text: string) => Buffer.from(text.slice(0, cut % Math.max(1, text.length)))),
    fc.constantFrom(...NOT_JSON).map((t) => (text: string) => Buffer.from(t.replace(/T/g, () => text))),
  );
}
