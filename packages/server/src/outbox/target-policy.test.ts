import { describe, expect, it } from 'vitest';
import { classifyAddress, classifyHostLiteral, policyHost, resolveTarget } from './target-policy.js';

const publicResolver = async () => [{ address: '101.226.103.10', family: 4 }];

describe('classifyAddress on IPv6 spellings of IPv4 addresses', () => {
  it.each([
    // IPv4-mapped (::ffff:0:0/96), dotted and hex
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::FFFF:A00:1', 'private'],
    // IPv4-compatible (::/96)
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::a9fe:a9fe', 'metadata'],
    ['::0.0.0.0', 'unspecified'],
    // IPv4-translated (::ffff:0:0:0/96)
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::ffff:0:c0a8:1', 'private'],
    // NAT64, well-known prefix (64:ff9b::/96) and local-use (64:ff9b:1::/48)
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b:1::10.0.0.1', 'private'],
    ['64:ff9b:1::7f00:1', 'loopback'],
    // 6to4 (2002::/16) of a private or loopback IPv4 address
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    // Teredo (2001::/32): the client address is bit-inverted in the last 32 bits
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
    // IPv6's own special addresses keep their meaning
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1%eth0', 'link-local'],
  ])('classifies %s as %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each([
    ['64:ff9b::101.226.103.10', 'public'],
    ['::ffff:101.226.103.10', 'public'],
    ['2002:65e2:670a::1', 'public'],
    ['2402:4e00::1', 'public'],
    // the local-use NAT64 prefix never leaves its own network, whatever address it carries
    ['64:ff9b:1::101.226.103.10', 'reserved'],
  ])('classifies %s, which carries a public address or none, as %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('classifyHostLiteral on hosts as WHATWG URL normalises them', () => {
  const hostOf = (url: string) => classifyHostLiteral(policyHost(new URL(url)));

  it.each([
    ['https://localhost/x', 'loopback'],
    ['https://localhost./x', 'loopback'],
    ['https://LOCALHOST../x', 'loopback'],
    ['https://api.localhost./x', 'loopback'],
    ['https://[::127.0.0.1]/x', 'loopback'],
    ['https://[::ffff:0:127.0.0.1]/x', 'loopback'],
    ['https://[::ffff:7f00:1]/x', 'loopback'],
    ['https://[64:ff9b::127.0.0.1]/x', 'loopback'],
    ['https://[64:ff9b:1::10.0.0.1]/x', 'private'],
    ['https://[2002:7f00:1::1]/x', 'loopback'],
    ['https://2130706433/x', 'loopback'],
    ['https://0x7f.1/x', 'loopback'],
    ['https://0177.0.0.1/x', 'loopback'],
    ['https://127.1/x', 'loopback'],
    ['https://127.0.0.1./x', 'loopback'],
    ['https://0xa9.0xfe.0xa9.0xfe/x', 'metadata'],
    ['https://0.0.0.0/x', 'unspecified'],
    ['https://0/x', 'unspecified'],
    ['https://[::]/x', 'unspecified'],
  ])('refuses %s as %s', (url, kind) => {
    expect(hostOf(url)).toBe(kind);
  });

  it('leaves names to DNS and accepts public literals', () => {
    expect(hostOf('https://notify.example.com./x')).toBeUndefined();
    expect(hostOf('https://localhost.example.com/x')).toBeUndefined();
    expect(hostOf('https://101.226.103.10/x')).toBeUndefined();
    expect(hostOf('https://[64:ff9b::101.226.103.10]/x')).toBeUndefined();
  });
});

describe('resolveTarget at delivery', () => {
  it.each([
    'https://[::127.0.0.1]/cb',
    'https://[::ffff:0:127.0.0.1]/cb',
    'https://[::ffff:7f00:1]/cb',
    'https://[64:ff9b::127.0.0.1]/cb',
    'https://[2002:a00:1::1]/cb',
    'https://2130706433/cb',
    'https://[::]/cb',
  ])('refuses %s under strict', async (url) => {
    expect(await resolveTarget(url, 'strict')).toMatchObject({
      refused: true,
      reason: expect.stringMatching(/refused by the strict target policy/),
    });
  });

  it('refuses localhost. under strict even when the resolver answers a public address', async () => {
    expect(await resolveTarget('https://localhost./cb', 'strict', publicResolver)).toMatchObject({
      refused: true,
      reason: 'localhost. is a localhost name (loopback), refused by the strict target policy',
    });
  });

  it('refuses a name whose DNS answer is a NAT64 or IPv4-mapped spelling of a private address', async () => {
    for (const address of ['64:ff9b::a00:7', '::ffff:a00:7', '::a00:7']) {
      const target = await resolveTarget('https://notify.example.com/cb', 'strict', async () => [
        { address, family: 6 },
      ]);
      expect(target).toMatchObject({ refused: true, reason: expect.stringContaining('(private)') });
    }
  });

  it('delivers to a DNS64 answer for a public IPv4 host under strict, with SNI without the trailing dot', async () => {
    const target = await resolveTarget('https://notify.example.com./cb', 'strict', async () => [
      { address: '64:ff9b::65e2:670a', family: 6 },
    ]);
    expect(target).toMatchObject({
      address: '64:ff9b::65e2:670a',
      family: 6,
      servername: 'notify.example.com',
    });
  });

  it('lets the local policy connect to embedded and localhost forms as given', async () => {
    expect(await resolveTarget('https://[::ffff:7f00:1]/cb', 'local')).toMatchObject({
      address: '::ffff:7f00:1',
      family: 6,
    });
    expect(
      await resolveTarget('http://localhost./cb', 'local', async () => [{ address: '127.0.0.1', family: 4 }]),
    ).toMatchObject({ address: '127.0.0.1', servername: 'localhost' });
  });
});
