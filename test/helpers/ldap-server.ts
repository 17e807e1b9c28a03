// A real OpenLDAP directory for tests: Debian's slapd started from a generated slapd.conf in a temporary directory,
// on loopback ports (ldap:// with StartTLS, and ldaps://) with a fresh self-signed certificate, seeded with ldapadd.
// The tree covers users in nested OUs, groups in nested OUs, a locked (disabled) user and non-ASCII names.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { freePort } from './process.js';
import { until } from './redis-server.js';

export const BASE_DN = 'dc=example,dc=com';
export const ADMIN_DN = `cn=admin,${BASE_DN}`;
export const ADMIN_PASSWORD = 'admin-secret';
export const SERVICE_DN = `cn=gatehouse,ou=services,${BASE_DN}`;
export const SERVICE_PASSWORD = 'service-secret';

/** The seeded users: username -> password, display name, emails and the groups the directory puts them in. */
export const LDAP_USERS = {
  alice: {
    password: 'alice-password',
    displayName: 'Alice Liddell',
    emails: ['alice@example.com'],
    groups: ['admins', 'dev'],
  },
  bob: { password: 'bob-password', displayName: 'Bob Builder', emails: ['bob@example.com'], groups: ['dev'] },
  jose: {
    password: 'contraseña-ñ',
    displayName: 'José Ñúñez 山田',
    emails: ['jose@example.com'],
    groups: ['Développeurs'],
  },
  carol: { password: 'carol-password', displayName: 'Carol Locked', emails: ['carol@example.com'], groups: ['dev'] },
} as const;

/**
 * The filter an OpenLDAP operator writes for Authelia with the ppolicy overlay: a locked account
 * (pwdAccountLockedTime set) is not found, so it cannot sign in and its sessions end at the next refresh.
 */
export const OPENLDAP_USERS_FILTER =
  '(&({username_attribute}={input})(objectClass=inetOrgPerson)(!(pwdAccountLockedTime=*)))';
export const OPENLDAP_GROUPS_FILTER = '(&(member={dn})(objectClass=groupOfNames))';

export interface LdapServer {
  /** ldap:// (StartTLS offered) */
  url: string;
  /** ldaps:// */
  tlsUrl: string;
  port: number;
  tlsPort: number;
  /** The self-signed certificate (PEM path), to give Node as NODE_EXTRA_CA_CERTS. */
  certificatePath: string;
  /** Runs `use` bound as the directory's admin (to change the tree during a test). */
  asAdmin<T>(use: (client: Client) => Promise<T>): Promise<T>;
  /** The `authentication_backend.ldap` section for this server (OpenLDAP, custom implementation). */
  backendConfig(over?: Record<string, unknown>): Record<string, unknown>;
  /** Stops slapd (SIGTERM); `start` brings it back on the same ports with the same data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function seedLdif(): string {
  const entry = (lines: string[]) => `${lines.join('\n')}\n`;
  const person = (uid: string, ou: string, cn: string, sn: string, extra: string[] = []) => {
    const user = LDAP_USERS[uid as keyof typeof LDAP_USERS];
    // Non-ASCII values are base64 in LDIF (`attr:: value`).
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    return entry([
      `dn: uid=${uid},${ou}`,
      'objectClass: inetOrgPerson',
      `uid: ${uid}`,
      `cn:: ${b64(cn)}`,
      `sn:: ${b64(sn)}`,
      `displayName:: ${b64(user.displayName)}`,
      ...user.emails.map((mail) => `mail: ${mail}`),
      `userPassword:: ${b64(user.password)}`,
      ...extra,
    ]);
  };
  const people = `ou=people,${BASE_DN}`;
  const engineering = `ou=engineering,${people}`;
  const contractors = `ou=contractors,${engineering}`;
  const groups = `ou=groups,${BASE_DN}`;
  const teams = `ou=teams,${groups}`;
  const ou = (dn: string, name: string) => entry([`dn: ${dn}`, 'objectClass: organizationalUnit', `ou: ${name}`]);
  const group = (dn: string, cn: string, members: string[]) =>
    entry([
      `dn:: ${Buffer.from(dn, 'utf8').toString('base64')}`,
      'objectClass: groupOfNames',
      `cn:: ${Buffer.from(cn, 'utf8').toString('base64')}`,
      ...members.map((member) => `member: ${member}`),
    ]);
  return [
    entry([`dn: ${BASE_DN}`, 'objectClass: dcObject', 'objectClass: organization', 'dc: example', 'o: Example']),
    ou(`ou=services,${BASE_DN}`, 'services'),
    entry([
      `dn: ${SERVICE_DN}`,
      'objectClass: organizationalRole',
      'objectClass: simpleSecurityObject',
      'cn: gatehouse',
      `userPassword: ${SERVICE_PASSWORD}`,
    ]),
    ou(people, 'people'),
    ou(engineering, 'engineering'),
    ou(contractors, 'contractors'),
    ou(groups, 'groups'),
    ou(teams, 'teams'),
    person('alice', people, 'Alice Liddell', 'Liddell'),
    person('bob', engineering, 'Bob Builder', 'Builder'),
    person('jose', contractors, 'José Ñúñez', 'Ñúñez'),
    // Locked by the ppolicy overlay's operational attribute, as `ldappasswordmodify`/lockout would set it.
    person('carol', people, 'Carol Locked', 'Locked', ['pwdAccountLockedTime: 000001010000Z']),
    group(`cn=admins,${groups}`, 'admins', [`uid=alice,${people}`]),
    group(`cn=dev,${teams}`, 'dev', [`uid=alice,${people}`, `uid=bob,${engineering}`, `uid=carol,${people}`]),
    group(`cn=Développeurs,${teams}`, 'Développeurs', [`uid=jose,${contractors}`]),
  ].join('\n');
}

function slapdConf(dir: string): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    `pidfile ${join(dir, 'slapd.pid')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload ppolicy',
    `TLSCertificateFile ${join(dir, 'cert.pem')}`,
    `TLSCertificateKeyFile ${join(dir, 'key.pem')}`,
    'database mdb',
    `suffix "${BASE_DN}"`,
    `rootdn "${ADMIN_DN}"`,
    `rootpw ${ADMIN_PASSWORD}`,
    `directory ${join(dir, 'data')}`,
    'overlay ppolicy',
    // Passwords may be read by nobody; binds check them. The service user reads everything else.
    'access to attrs=userPassword by anonymous auth by * none',
    `access to * by dn.exact="${SERVICE_DN}" read by self read by * none`,
    '',
  ].join('\n');
}

export async function startLdapServer(): Promise<LdapServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ldap-'));
  mkdirSync(join(dir, 'data'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'slapd.conf'), slapdConf(dir));
  writeFileSync(join(dir, 'seed.ldif'), seedLdif());
  const port = await freePort();
  const tlsPort = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const tlsUrl = `ldaps://127.0.0.1:${tlsPort}`;
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    output = '';
    child = spawn('/usr/sbin/slapd', ['-f', join(dir, 'slapd.conf'), '-h', `${url}/ ${tlsUrl}/`, '-d', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const started = child;
    await until(`slapd on ${port} answers`, 10_000, async () => {
      if (started.exitCode !== null) throw new Error(`slapd exited ${started.exitCode}:\n${output}`);
      const client = new Client({ url, connectTimeout: 500, timeout: 1000 });
      try {
        await client.bind(ADMIN_DN, ADMIN_PASSWORD);
        return true;
      } finally {
        await client.unbind().catch(() => undefined);
      }
    });
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  }

  await start();
  try {
    execFileSync('ldapadd', ['-x', '-H', url, '-D', ADMIN_DN, '-w', ADMIN_PASSWORD, '-f', join(dir, 'seed.ldif')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`seeding the directory failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
  }

  return {
    url,
    tlsUrl,
    port,
    tlsPort,
    certificatePath: join(dir, 'cert.pem'),
    async asAdmin(use) {
      const client = new Client({ url, timeout: 5000 });
      try {
        await client.bind(ADMIN_DN, ADMIN_PASSWORD);
        return await use(client);
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
    backendConfig(over = {}) {
      return {
        address: url,
        implementation: 'custom',
        timeout: '2s',
        base_dn: BASE_DN,
        additional_users_dn: 'ou=people',
        additional_groups_dn: 'ou=groups',
        users_filter: OPENLDAP_USERS_FILTER,
        groups_filter: OPENLDAP_GROUPS_FILTER,
        user: SERVICE_DN,
        password: SERVICE_PASSWORD,
        ...over,
      };
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
