import { describe, expect, it } from 'vitest';
import { operation, pathOf } from './operation-target.js';

describe('pathOf', () => {
  it('fills each {name} with its value, percent-encoded as one path segment', () => {
    expect(pathOf('getStock', { stock_id: '1 2' })).toBe('/v3/marketing/busifavor/stocks/1%202');
    expect(pathOf('getUserCoupon', { openid: 'o/1', coupon_code: 'A?B', appid: 'wx1' })).toBe(
      '/v3/marketing/busifavor/users/o%2F1/coupons/A%3FB/appids/wx1',
    );
  });

  it('returns a path without parameters as the table has it', () => {
    expect(pathOf('createStock')).toBe('/v3/marketing/busifavor/stocks');
  });

  it('gives operation() the method of the table', () => {
    expect(operation('modifyStock', { stock_id: '9' })).toEqual({
      method: 'PATCH',
      path: '/v3/marketing/busifavor/stocks/9',
    });
  });
});
