import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, type ErrorKey, errors, paramError, wireCode } from './errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('error catalog', () => {
  it.each(Object.keys(ERROR_CATALOG) as ErrorKey[])(
    'documents %s with its status in docs/errors.md',
    (key) => {
      const { status } = ERROR_CATALOG[key];
      expect(doc).toMatch(new RegExp(`\\| ${status} \\| \`${wireCode(key)}\` \\|`));
    },
  );

  it('renders WeChat bodies, with detail only when given', () => {
    expect(errors.NO_AUTH().toBody()).toEqual({ code: 'NO_AUTH', message: '无权限' });
    expect(errors.SYSTEM_ERROR_400().status).toBe(400);
    expect(errors.SYSTEM_ERROR_400().code).toBe('SYSTEM_ERROR');
    expect(errors.PARAM_ERROR('x', { field: '/a', location: 'body' }).toBody()).toEqual({
      code: 'PARAM_ERROR',
      message: 'x',
      detail: { field: '/a', location: 'body' },
    });
  });

  it('echoes only a scalar value in a PARAM_ERROR (a nested value a caller sent may be huge)', () => {
    expect(paramError('/a', 'bad', 'body', 'x').detail?.value).toBe('x');
    expect(paramError('/a', 'bad', 'body', 0).detail?.value).toBe(0);
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const error = paramError('/a', 'bad', 'body', deep);
    expect(error.detail).toEqual({ field: '/a', issue: 'bad', location: 'body' });
    expect(() => JSON.stringify(error.toBody())).not.toThrow();
  });
});
