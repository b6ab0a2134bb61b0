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
 * holding a forbidden character. `pointer` is the JSON Pointer of `value` itself.
 */
export function findForbiddenCharacter(value: unknown, pointer = ''): ForbiddenCharacter | undefined {
  if (typeof value === 'string') {
    const codePoint = forbiddenCharacterIn(value);
    return codePoint ? { field: pointer || '/', codePoint } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenCharacter(value[i], `${pointer}/${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      const escaped = key.replace(/~/g, '~0').replace(/\//g, '~1');
      const keyChar = forbiddenCharacterIn(key);
      if (keyChar) return { field: `${pointer}/${escaped}`, codePoint: keyChar };
      const found = findForbiddenCharacter(member, `${pointer}/${escaped}`);
      if (found) return found;
    }
  }
  return undefined;
}
