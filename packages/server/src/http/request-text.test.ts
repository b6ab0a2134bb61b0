import { describe, expect, it } from 'vitest';
import { findForbiddenCharacter } from './request-text.js';

describe('findForbiddenCharacter', () => {
  it('names the first string or member name holding a control character, in document order', () => {
    expect(findForbiddenCharacter({ a: 'ok', b: ['x', 'y\u0000'] })).toEqual({
      field: '/b/1',
      codePoint: 'U+0000',
    });
    // A member name is checked before its value, and both before the next member.
    expect(findForbiddenCharacter({ 'k\u0001': 'v\u0000', z: '\u0002' })).toEqual({
      field: '/k\u0001',
      codePoint: 'U+0001',
    });
    expect(findForbiddenCharacter({ 'a/b': { '~': '\u007f' } })).toEqual({
      field: '/a~1b/~0',
      codePoint: 'U+007F',
    });
    expect(findForbiddenCharacter('\ud800', '/meta')).toEqual({ field: '/meta', codePoint: 'U+D800' });
    expect(findForbiddenCharacter('\u0000')).toEqual({ field: '/', codePoint: 'U+0000' });
    expect(findForbiddenCharacter({ a: ['tab\tline\ncr\r', 1, null, true] })).toBeUndefined();
  });

  it('walks a body nested 100,000 levels deep without overflowing the stack', () => {
    const depth = 100_000;
    const clean = JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(findForbiddenCharacter(clean)).toBeUndefined();
    const dirty = JSON.parse(`${'{"a":['.repeat(depth)}"\\u0000"${']}'.repeat(depth)}`);
    const found = findForbiddenCharacter(dirty);
    expect(found?.codePoint).toBe('U+0000');
    expect(found?.field).toBe('/a/0'.repeat(depth));
  });
});
