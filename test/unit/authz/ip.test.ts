import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { parseNetwork, type Network } from '../../../src/config/networks.js';
import { addNetwork, clientAddress } from '../../../src/authz/ip.js';

describe('parseNetwork: addresses and CIDR ranges from the configuration', () => {
  const valid: [string, Network][] = [
    ['10.0.0.1', { address: '10.0.0.1', prefix: 32, family: 'ipv4' }],
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
    ['2001:db8::/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
    ['::ffff:10.0.0.0/104', { address: '::ffff:10.0.0.0', prefix: 104, family: 'ipv6' }],
  ];
  for (const [text, expected] of valid) {
    it(`reads ${text}`, () => assert.deepEqual(parseNetwork(text), expected));
  }

  const invalid: [string, RegExp][] = [
    ['10.0.0.256', /not an IP address or a CIDR range/],
    ['010.0.0.1', /not an IP address or a CIDR range/],
    ['fe80::1%eth0', /not an IP address or a CIDR range/],
    ['office', /not an IP address or a CIDR range/],
    ['', /not an IP address or a CIDR range/],
    ['10.0.0.0/33', /prefix length: it must be 0 to 32/],
    ['2001:db8::/129', /prefix length: it must be 0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/+8', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
  ];
  for (const [text, reason] of invalid) {
    it(`refuses '${text}'`, () => {
      const parsed = parseNetwork(text);
      assert.ok('error' in parsed);
      assert.match(parsed.error, reason);
    });
  }
});

describe('clientAddress and networks: matching the client', () => {
  const list = new BlockList();
  for (const text of ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']) {
    const network = parseNetwork(text);
    assert.ok(!('error' in network));
    addNetwork(list, network);
  }
  const inList = (ip: string | undefined) => {
    const address = clientAddress(ip);
    return address !== null && list.check(address);
  };

  it('matches IPv4 and IPv6 addresses in the ranges', () => {
    assert.ok(inList('10.1.2.3'));
    assert.ok(inList('192.168.1.7'));
    assert.ok(inList('2001:db8:1::5'));
    assert.ok(!inList('192.168.1.8'));
    assert.ok(!inList('11.0.0.1'));
    assert.ok(!inList('2001:db9::1'));
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address, in either notation', () => {
    assert.ok(inList('::ffff:10.0.0.1'));
    assert.ok(inList('::ffff:a00:1'));
    assert.ok(inList('::FFFF:192.168.1.7'));
    assert.ok(!inList('::ffff:11.0.0.1'));
  });

  it('gives null for a missing or malformed address, which then matches no network', () => {
    for (const ip of [undefined, '', 'unknown', '10.0.0.1, 10.0.0.2', '10.0.0.1:443', '[::1]']) {
      assert.equal(clientAddress(ip), null, String(ip));
      assert.ok(!inList(ip));
    }
  });

  it('reuses the parsed address of a client seen before', () => {
    assert.equal(clientAddress('10.9.9.9'), clientAddress('10.9.9.9'));
  });
});
