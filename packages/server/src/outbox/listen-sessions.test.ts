import { describe, expect, it } from 'vitest';
import {
  type ListenSession,
  listenTargetFor,
  listenTargetIssue,
  resolveListenTarget,
} from './listen-sessions.js';

const resolverTo =
  (address: string, family = 4) =>
  async () => [{ address, family }];

describe('resolveListenTarget: loopback listen targets pass both policies, others follow the policy', () => {
  it.each([
    ['http://127.0.0.1:4000/hook', resolverTo('10.0.0.1')],
    ['https://127.0.0.2/hook', resolverTo('10.0.0.1')],
    ['http://[::1]:4000/hook', resolverTo('10.0.0.1')],
    ['http://localhost:4000/hook', resolverTo('127.0.0.1')],
  ])('strict allows %s', async (url, resolver) => {
    const target = await resolveListenTarget(url, 'strict', resolver);
    expect(target).not.toHaveProperty('refused');
  });

  it.each([
    // A localhost name that resolves elsewhere is not a loopback target.
    ['http://localhost:4000/hook', resolverTo('10.0.0.1'), /not a loopback address/],
    ['http://10.0.0.5/hook', resolverTo('10.0.0.5'), /http: targets are not allowed/],
    ['https://10.0.0.5/hook', resolverTo('10.0.0.5'), /private/],
    ['https://receiver.example/hook', resolverTo('192.168.1.2'), /private/],
    ['http://receiver.example/hook', resolverTo('101.226.103.10'), /http: targets are not allowed/],
  ])('strict refuses %s', async (url, resolver, reason) => {
    const target = await resolveListenTarget(url, 'strict', resolver);
    expect(target).toMatchObject({ refused: true, reason: expect.stringMatching(reason) });
  });

  it('local allows any http(s) target, as for notify URLs', async () => {
    expect(await resolveListenTarget('http://10.0.0.5/hook', 'local', resolverTo('10.0.0.5'))).toMatchObject({
      address: '10.0.0.5',
    });
  });
});

describe('listenTargetFor', () => {
  const session = (id: string, expiresAt: number, eventTypes?: string[]): ListenSession => ({
    id,
    mchid: '1900000001',
    targetUrl: `http://127.0.0.1/${id}`,
    eventTypes,
    leaseMs: 15_000,
    expiresAt,
    createdAt: 0,
  });

  it('takes the newest live session whose event types match', () => {
    const sessions = [
      session('newest', 2000, ['DELIVERY_PLAN.CHANGE']),
      session('older', 2000),
      session('old', 2000),
    ];
    expect(listenTargetFor(sessions, 'COUPON.SEND', 1000)?.id).toBe('older');
    expect(listenTargetFor(sessions, 'DELIVERY_PLAN.CHANGE', 1000)?.id).toBe('newest');
  });

  it('ignores an expired session at once', () => {
    expect(listenTargetFor([session('a', 1000)], 'COUPON.SEND', 1000)).toBeUndefined();
    expect(listenTargetFor([session('a', 1000)], 'COUPON.SEND', 999)?.id).toBe('a');
  });
});

describe('listenTargetIssue', () => {
  it.each([
    ['ftp://127.0.0.1/x', /http\(s\)/],
    ['127.0.0.1:4000', /http\(s\)/],
    ['http://user:pw@127.0.0.1/x', /user info/],
    [`http://127.0.0.1/${'x'.repeat(520)}`, /512/],
  ])('refuses %s', (url, issue) => {
    expect(listenTargetIssue(url)).toMatch(issue);
  });

  it('accepts http and https URLs', () => {
    expect(listenTargetIssue('http://127.0.0.1:4000/hook')).toBeUndefined();
    expect(listenTargetIssue('https://example.com/hook?x=1')).toBeUndefined();
  });
});
