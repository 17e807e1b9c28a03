import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { explainAccess } from '../../../src/authz/explain.js';
import type { AccessRequest } from '../../../src/authz/rules-request.js';
import { configSchema, type RawConfig } from '../../../src/config/schema.js';

const config = configSchema.parse({
  access_control: {
    default_policy: 'deny',
    networks: [{ name: 'internal', networks: '10.0.0.0/8' }],
    rules: [
      { domain: 'public.example.com', policy: 'bypass' },
      { domain: '*.example.com', resources: '^/api', methods: ['GET'], networks: 'internal', policy: 'one_factor' },
      { domain: 'app.example.com', subject: 'group:admins', query: [{ key: 'debug' }], policy: 'two_factor' },
      { domain: 'app.example.com', policy: 'one_factor' },
    ],
  } satisfies RawConfig['access_control'],
});

const request = (url: string, extra: Partial<AccessRequest> = {}): AccessRequest => ({
  url: new URL(url),
  method: 'GET',
  ip: '10.0.0.1',
  ...extra,
});

/** The table rows, without the header, keyed by rule number. */
function rows(output: string): Map<string, string[]> {
  const table = output.split('\n').filter((line) => /^[*~ ]\s*\d+\s/.test(line));
  return new Map(
    table.map((line) => {
      const cells = line.trim().split(/\s+/);
      const marker = cells[0] === '*' || cells[0] === '~' ? cells.shift()! : '';
      return [cells[0]!, [marker, ...cells.slice(1)]];
    }),
  );
}

describe('explainAccess (gatehouse access-control check-policy)', () => {
  it('prints the request, one line per rule with each criterion, a legend and the decision', () => {
    const output = explainAccess(
      config,
      request('https://app.example.com/x?debug=1', { subject: { username: 'john', groups: ['dev'] } }),
    );
    assert.equal(
      output,
      [
        "Request: GET https://app.example.com/x?debug=1 from 10.0.0.1, by user 'john' (groups: dev).",
        '',
        '   #  Domain  Resource  Method  Network  Subject  Query  Policy',
        '   1  miss    -         -       -        -        -      bypass',
        '   2  hit     miss      hit     hit      -        -      one_factor',
        '   3  hit     -         -       -        miss     hit    two_factor',
        '*  4  hit     -         -       -        -        -      one_factor',
        '',
        'Legend: * the rule that decides; ~ the rule that decides once the user is known (the request is sent to sign in);',
        '        hit / miss: the criterion matches / does not; may: it matches if the signed-in user is the right one; - absent.',
        '',
        "The policy 'one_factor' from rule #4 will be applied to this request.",
      ].join('\n'),
    );
  });

  it('marks a subject rule an anonymous request stops at with ~ and may, and says a sign-in comes first', () => {
    const output = explainAccess(config, request('https://app.example.com/x?debug=1'));
    assert.deepEqual(rows(output).get('3'), ['~', 'hit', '-', '-', '-', 'may', 'hit', 'two_factor']);
    assert.match(output, /by an anonymous user/);
    assert.match(
      output,
      /Rule #3 \(policy 'two_factor'\) applies only to certain users: the request will be sent to sign in/,
    );
  });

  it('marks the first fully matching rule with *, and leaves out the later rules (as Authelia without --verbose)', () => {
    const output = explainAccess(config, request('https://app.example.com/api/v1'));
    assert.deepEqual(rows(output).get('2'), ['*', 'hit', 'hit', 'hit', 'hit', '-', '-', 'one_factor']);
    assert.deepEqual([...rows(output).keys()], ['1', '2']);
    assert.match(output, /\(2 later rules not shown: --verbose shows every rule\)/);
    assert.match(output, /The policy 'one_factor' from rule #2 will be applied to this request\.$/);
  });

  it('--verbose shows every rule, the later ones too', () => {
    const output = explainAccess(config, request('https://app.example.com/api/v1'), { verbose: true });
    assert.deepEqual([...rows(output).keys()], ['1', '2', '3', '4']);
    assert.doesNotMatch(output, /not shown/);
  });

  it('a subject with groups and no username (check-policy --groups alone) is a signed-in subject', () => {
    const output = explainAccess(
      config,
      request('https://app.example.com/x?debug=1', { subject: { username: '', groups: ['admins'] } }),
    );
    assert.match(output, /by a user with no name given \(groups: admins\)/);
    assert.deepEqual(rows(output).get('3'), ['*', 'hit', '-', '-', '-', 'hit', 'hit', 'two_factor']);
  });

  it('reads the networks of definitions.network', () => {
    const withDefinitions = configSchema.parse({
      definitions: { network: { office: '192.168.1.0/24' } },
      access_control: { rules: [{ domain: 'app.example.com', networks: 'office', policy: 'bypass' }] },
    });
    const output = explainAccess(withDefinitions, request('https://app.example.com/', { ip: '192.168.1.20' }));
    assert.match(output, /The policy 'bypass' from rule #1 will be applied/);
  });

  it('names the default policy when no rule matches, and shows the misses', () => {
    const output = explainAccess(config, request('https://other.example.org/', { method: 'post', ip: undefined }));
    assert.match(
      output,
      /^Request: POST https:\/\/other\.example\.org\/ from an unknown address, by an anonymous user\./,
    );
    assert.deepEqual(rows(output).get('2'), ['', 'miss', 'miss', 'miss', 'miss', '-', '-', 'one_factor']);
    assert.ok(![...rows(output).values()].some(([marker]) => marker !== ''));
    assert.match(output, /The policy 'deny' from the default policy will be applied to this request\.$/);
  });

  it('says so when there are no rules at all', () => {
    const output = explainAccess(configSchema.parse({}), request('https://app.example.com/'));
    assert.match(output, /no rules: only the default policy applies/);
    assert.match(output, /The policy 'deny' from the default policy will be applied/);
  });
});
