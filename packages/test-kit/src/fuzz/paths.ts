import fc from 'fast-check';
import { anyText } from './json.js';

/** A route as the server lists it (`startServer().routes`). */
export interface FuzzRoute {
  method: string;
  /** The pattern, e.g. `/v3/marketing/busifavor/stocks/:stock_id`. */
  url: string;
  auth: 'merchant' | 'public';
}

/** The names of a route's path parameters, in order. */
export function parameterNames(pattern: string): string[] {
  return pattern
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1));
}

/**
 * Percent-encodes every byte of the UTF-8 form that is not unreserved; a lone surrogate (which
 * encodeURIComponent refuses) becomes the bytes of its code unit (ED A0 80 for U+D800: not UTF-8).
 */
export function percentEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const next = text.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out += `%${(0xe0 | (unit >> 12)).toString(16).toUpperCase()}%${(0x80 | ((unit >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (unit & 0x3f)).toString(16).toUpperCase()}`;
    } else {
      out += encodeURIComponent(text[i] as string);
    }
  }
  return out;
}

/** The route's path with each parameter replaced by its (already encoded) segment text. */
export function fillPattern(pattern: string, segments: Readonly<Record<string, string>>): string {
  return pattern.replace(/:([A-Za-z_]+)/g, (_, name: string) => segments[name] ?? 'x');
}

/**
 * How the request-target spells the path. `plain` is the route's own spelling; every other spelling
 * names the same resource another way (gateway: a signed route must be spelled plainly, else 401
 * SIGN_ERROR before the signature is even checked).
 */
export const SPELLINGS = [
  'plain',
  'percent-static',
  'percent-lowercase',
  'absolute-form',
  'dot-segment',
  'dot-dot-segment',
  'encoded-dot-segment',
  'doubled-slash',
  'leading-doubled-slash',
  'trailing-slash',
] as const;
/** One way to spell a path. */
export type Spelling = (typeof SPELLINGS)[number];

/**
 * The target for a spelling. `pick` chooses which static character is percent-encoded or where the
 * dot segment goes; `baseUrl` is needed for the absolute form. A path with no static character to
 * encode falls back to the plain spelling, so the caller reads the spelling back from the result.
 */
export function spell(
  path: string,
  pattern: string,
  spelling: Spelling,
  pick: number,
  baseUrl: string,
): { path: string; spelling: Spelling } {
  const segments = path.split('/');
  const patternSegments = pattern.split('/');
  const staticIndexes = patternSegments
    .map((s, i) => (i > 0 && s !== '' && !s.startsWith(':') ? i : -1))
    .filter((i) => i > 0);
  const at = staticIndexes[pick % Math.max(1, staticIndexes.length)] ?? 1;
  const join = (parts: string[]) => parts.join('/');
  switch (spelling) {
    case 'plain':
      return { path, spelling };
    case 'percent-static':
    case 'percent-lowercase': {
      if (staticIndexes.length === 0) return { path, spelling: 'plain' };
      const segment = segments[at] as string;
      const c = Math.floor(pick / 7) % segment.length;
      let hex = segment.charCodeAt(c).toString(16).padStart(2, '0');
      hex = spelling === 'percent-static' ? hex.toUpperCase() : hex.toLowerCase();
      const spelled = [...segments];
      spelled[at] = `${segment.slice(0, c)}%${hex}${segment.slice(c + 1)}`;
      return { path: join(spelled), spelling };
    }
    case 'absolute-form':
      return { path: `${baseUrl}${path}`, spelling };
    case 'dot-segment':
      return { path: join([...segments.slice(0, at), '.', ...segments.slice(at)]), spelling };
    case 'dot-dot-segment':
      return { path: join([...segments.slice(0, at), 'x', '..', ...segments.slice(at)]), spelling };
    case 'encoded-dot-segment':
      return { path: join([...segments.slice(0, at), 'x', '%2E%2E', ...segments.slice(at)]), spelling };
    case 'doubled-slash':
      return { path: join([...segments.slice(0, at), '', ...segments.slice(at)]), spelling };
    case 'leading-doubled-slash':
      return { path: `/${path}`, spelling };
    case 'trailing-slash':
      return { path: `${path}/`, spelling };
  }
}

/** A spelling: mostly the plain one (`plainWeight` against 2), so that most requests reach the handlers. */
export function spellingArbitrary(plainWeight = 8): fc.Arbitrary<Spelling> {
  const odd = fc.constantFrom(...SPELLINGS.filter((s) => s !== 'plain'));
  if (plainWeight <= 0) return odd;
  return fc.oneof(
    { weight: plainWeight, arbitrary: fc.constant<Spelling>('plain') },
    { weight: 2, arbitrary: odd },
  );
}

/**
 * A path parameter's segment as sent: a known value (plain or every byte percent-encoded, which the
 * gateway accepts), or an awkward one (encoded NUL, bad escapes, over-long, dot segments, unicode).
 */
export function segmentArbitrary(known: readonly string[]): fc.Arbitrary<string> {
  const knownValues = known.length > 0 ? known : ['1'];
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...knownValues).map(percentEncode) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...knownValues)
        .map((v) =>
          [...Buffer.from(v)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
        ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '%00',
        'a%00',
        '%ZZ',
        '%',
        '%E4',
        '%ED%A0%80',
        '%F0%9F%98%80',
        '%C0%AE',
        '%2F',
        'a%2Fb',
        '%2e%2e',
        '%20',
        '+',
        '%7F',
        '%1B',
        'a;b=c',
        '*',
        '%E4%B8%AD%E6%96%87',
        'a'.repeat(100),
        'a'.repeat(101),
        '1'.repeat(64),
        '9'.repeat(21),
        '0',
        '-1',
      ),
    },
    {
      weight: 2,
      arbitrary: anyText()
        .filter((t) => t.length > 0)
        .map(percentEncode),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-Za-z_-]{1,40}$/) },
  );
}
