/**
 * Characters no WeChat Pay field can carry. NUL breaks PostgreSQL text (`invalid byte sequence for
 * encoding "UTF8": 0x00`) while SQLite would store it, so refusing them up front keeps both dialects
 * identical; the other C0 controls (tab, LF and CR excepted), DEL and lone UTF-16 surrogates have no
 * place in identifiers, URLs or display text either. Four-byte UTF-8 in a JSON body is refused
 * separately (the body parser answers that one, as the platform documents it).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|\p{Cs}/u;

/** Where a forbidden character was found: a JSON Pointer (body) or a bare name (path, query). */
export interface ForbiddenCharacter {
  field: string;
  /** The character as `U+0000`. */
  codePoint: string;
}

/** The first forbidden character in a string, as `U+XXXX`. */
export function forbiddenCharacterIn(text: string): string | undefined {
  const match = FORBIDDEN.exec(text);
  if (!match) return undefined;
  const code = match[0].codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Walks a parsed JSON value (or a query/params object) and returns the first string, or member name,
 * holding a forbidden character, in document order (a member name before its value). `pointer` is the
 * JSON Pointer of `value` itself. The walk keeps its own stack: a body within the size limit can nest
 * far deeper than the call stack (3 MiB of `[` is over a million levels), and a recursive walk answered
 * that with a RangeError, i.e. a 500.
 */
export function findForbiddenCharacter(value: unknown, pointer = ''): ForbiddenCharacter | undefined {
  /** A value still to check, or a member name (`key`), with the path that leads to it. */
  interface Pending {
    value: unknown;
    key?: string;
    parent: Pending | undefined;
    segment: string;
  }
  const pointerOf = (pending: Pending): string => {
    const segments: string[] = [];
    for (let p: Pending | undefined = pending; p; p = p.parent) segments.push(p.segment);
    return pointer + segments.reverse().join('');
  };
  const stack: Pending[] = [{ value, parent: undefined, segment: '' }];
  for (let pending = stack.pop(); pending; pending = stack.pop()) {
    if (pending.key !== undefined) {
      const keyChar = forbiddenCharacterIn(pending.key);
      if (keyChar) return { field: pointerOf(pending), codePoint: keyChar };
      continue;
    }
    const current = pending.value;
    if (typeof current === 'string') {
      const codePoint = forbiddenCharacterIn(current);
      if (codePoint) return { field: pointerOf(pending) || '/', codePoint };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], parent: pending, segment: `/${i}` });
      }
    } else if (current !== null && typeof current === 'object') {
      const members = Object.entries(current);
      for (let i = members.length - 1; i >= 0; i--) {
        const [key, member] = members[i] as [string, unknown];
        const segment = `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        // Popped in reverse: the name is checked before its value, and both before the next member.
        stack.push({ value: member, parent: pending, segment });
        stack.push({ value: undefined, key, parent: pending, segment });
      }
    }
  }
  return undefined;
}
