// Authelia's `implementation` presets for authentication_backend.ldap: each fills the filters, extra DNs and
// attribute names the operator left unset (Authelia's defaults per implementation, as its reference lists them).
// `resolveLdapSettings` gives the settings the backend uses, with the attribute placeholders already filled in.
import { fillAttributes, type FilterAttributes } from './ldap-filter.js';

export const LDAP_IMPLEMENTATIONS = ['custom', 'activedirectory', 'rfc2307bis', 'freeipa', 'lldap', 'glauth'] as const;
export type LdapImplementation = (typeof LDAP_IMPLEMENTATIONS)[number];

export interface LdapPreset {
  additional_users_dn?: string;
  additional_groups_dn?: string;
  users_filter?: string;
  groups_filter?: string;
  attributes: Partial<FilterAttributes>;
}

export const LDAP_PRESETS: Record<LdapImplementation, LdapPreset> = {
  custom: { attributes: { username: 'uid', display_name: 'displayName', mail: 'mail', group_name: 'cn' } },
  activedirectory: {
    users_filter:
      '(&(|({username_attribute}={input})({mail_attribute}={input}))(sAMAccountType=805306368)(!(userAccountControl:1.2.840.113556.1.4.803:=2))(!(pwdLastSet=0))(|(!(accountExpires=*))(accountExpires=0)(accountExpires>={date-time:microsoft-nt})))',
    groups_filter: '(&(member={dn})(|(sAMAccountType=268435456)(sAMAccountType=536870912)))',
    attributes: {
      distinguished_name: 'distinguishedName',
      username: 'sAMAccountName',
      display_name: 'displayName',
      mail: 'mail',
      member_of: 'memberOf',
      group_name: 'cn',
    },
  },
  rfc2307bis: {
    users_filter:
      '(&(|({username_attribute}={input})({mail_attribute}={input}))(|(objectClass=inetOrgPerson)(objectClass=organizationalPerson)))',
    groups_filter:
      '(&(|(member={dn})(uniqueMember={dn}))(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=groupOfMembers)))',
    attributes: { username: 'uid', display_name: 'displayName', mail: 'mail', member_of: 'memberOf', group_name: 'cn' },
  },
  freeipa: {
    users_filter:
      '(&(|({username_attribute}={input})({mail_attribute}={input}))(objectClass=person)(!(nsAccountLock=TRUE))(krbPasswordExpiration>={date-time:generalized})(|(!(krbPrincipalExpiration=*))(krbPrincipalExpiration>={date-time:generalized})))',
    groups_filter: '(&(member={dn})(objectClass=groupOfNames))',
    attributes: { username: 'uid', display_name: 'displayName', mail: 'mail', member_of: 'memberOf', group_name: 'cn' },
  },
  lldap: {
    additional_users_dn: 'ou=people',
    additional_groups_dn: 'ou=groups',
    users_filter: '(&(|({username_attribute}={input})({mail_attribute}={input}))(objectClass=person))',
    groups_filter: '(&(member={dn})(objectClass=groupOfUniqueNames))',
    attributes: { username: 'uid', display_name: 'cn', mail: 'mail', group_name: 'cn' },
  },
  glauth: {
    users_filter:
      '(&(|({username_attribute}={input})({mail_attribute}={input}))(objectClass=posixAccount)(!(accountStatus=inactive)))',
    groups_filter: '(&(uniqueMember={dn})(objectClass=posixGroup))',
    attributes: { username: 'cn', display_name: 'description', mail: 'mail', group_name: 'cn' },
  },
};

/** What the operator wrote (schema output), the parts the preset may fill. */
export interface LdapWritten {
  implementation: LdapImplementation;
  base_dn: string;
  additional_users_dn?: string | undefined;
  additional_groups_dn?: string | undefined;
  users_filter?: string | undefined;
  groups_filter?: string | undefined;
  attributes: Partial<Record<keyof FilterAttributes, string | undefined>>;
}

export interface LdapSearchSettings {
  usersBaseDn: string;
  groupsBaseDn: string;
  /** Attribute placeholders filled; value placeholders ({input}, {dn}...) left for each search. */
  usersFilter: string;
  groupsFilter: string;
  attributes: FilterAttributes;
}

/** The written keys over the preset's; undefined filters (custom without them) are reported by the schema. */
export function resolveLdapSettings(written: LdapWritten): LdapSearchSettings {
  const preset = LDAP_PRESETS[written.implementation];
  const pick = (key: keyof FilterAttributes) => written.attributes[key] || preset.attributes[key] || '';
  const attributes: FilterAttributes = {
    distinguished_name: pick('distinguished_name'),
    username: pick('username'),
    display_name: pick('display_name'),
    mail: pick('mail'),
    member_of: pick('member_of'),
    group_name: pick('group_name'),
  };
  return {
    usersBaseDn: joinDn(written.additional_users_dn ?? preset.additional_users_dn, written.base_dn),
    groupsBaseDn: joinDn(written.additional_groups_dn ?? preset.additional_groups_dn, written.base_dn),
    usersFilter: fillAttributes(written.users_filter ?? preset.users_filter ?? '', attributes),
    groupsFilter: fillAttributes(written.groups_filter ?? preset.groups_filter ?? '', attributes),
    attributes,
  };
}

/** Authelia prepends the additional DN to the base DN with a comma. */
function joinDn(additional: string | undefined, base: string): string {
  const extra = additional?.trim();
  return extra ? `${extra},${base}` : base;
}
