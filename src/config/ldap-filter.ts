// (In config/, below users/: the schema checks the configured filters with the same code that fills them.)
// LDAP search filters as Authelia writes them: placeholders in braces, filled in two steps. The attribute names
// ({username_attribute}...) are fixed by the configuration and filled once at start; the values ({input},
// {username}, {dn}, the date-times) are filled per search, each one escaped by RFC 4515 first, so no value a user
// types (or a directory returns) can change the filter's structure.

/** RFC 4515 §3: the five characters a value may not carry as they are; UTF-8 beyond ASCII stays as it is. */
const FILTER_SPECIALS = /[\\*()\0]/g;

export function escapeFilterValue(value: string): string {
  return value.replace(FILTER_SPECIALS, (char) => `\\${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The attribute names a filter may name by placeholder (Authelia's `{..._attribute}` words). */
export interface FilterAttributes {
  username: string;
  mail: string;
  display_name: string;
  member_of: string;
  group_name: string;
  distinguished_name: string;
}

const ATTRIBUTE_PLACEHOLDERS: Record<string, keyof FilterAttributes> = {
  username_attribute: 'username',
  mail_attribute: 'mail',
  display_name_attribute: 'display_name',
  member_of_attribute: 'member_of',
  group_name_attribute: 'group_name',
  distinguished_name_attribute: 'distinguished_name',
};

/** Values filled per search; each is escaped before it goes in. */
export interface FilterValues {
  /** What the user typed as their username (users filter), or the user's username (groups filter). */
  input?: string;
  /** The user's username as the directory has it (groups filter). */
  username?: string;
  /** The user's distinguished name (groups filter). */
  dn?: string;
}

export const USERS_FILTER_VALUES = ['input'] as const;
export const GROUPS_FILTER_VALUES = ['input', 'username', 'dn'] as const;
const DATE_TIME_PLACEHOLDERS = ['date-time:generalized', 'date-time:microsoft-nt', 'date-time:unix'];

const PLACEHOLDER = /\{([a-z_:-]+)\}/g;

/**
 * Problems with a configured filter: not parenthesised, parentheses unbalanced, or a placeholder this filter cannot
 * fill (Authelia's words only; a typo would otherwise be searched for literally and match nobody).
 */
export function filterProblems(filter: string, values: readonly string[]): string[] {
  const problems: string[] = [];
  const trimmed = filter.trim();
  if (!trimmed.startsWith('(') || !trimmed.endsWith(')')) problems.push('must be enclosed in parentheses');
  let depth = 0;
  for (const char of trimmed.replace(/\\./g, '')) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (depth < 0) break;
  }
  if (depth !== 0) problems.push('has unbalanced parentheses');
  for (const [, name] of trimmed.matchAll(PLACEHOLDER)) {
    const known = name! in ATTRIBUTE_PLACEHOLDERS || values.includes(name!) || DATE_TIME_PLACEHOLDERS.includes(name!);
    if (!known) problems.push(`has an unknown placeholder {${name}} (known: ${knownPlaceholders(values)})`);
  }
  return problems;
}

function knownPlaceholders(values: readonly string[]): string {
  return [...values, ...Object.keys(ATTRIBUTE_PLACEHOLDERS), ...DATE_TIME_PLACEHOLDERS].map((n) => `{${n}}`).join(', ');
}

/** Fills the attribute-name placeholders (once, at start); value placeholders are left for `fillValues`. */
export function fillAttributes(filter: string, attributes: FilterAttributes): string {
  return filter.trim().replace(PLACEHOLDER, (whole, name: string) => {
    const attribute = ATTRIBUTE_PLACEHOLDERS[name];
    return attribute === undefined ? whole : attributes[attribute];
  });
}

/** Fills the value placeholders, every value escaped (RFC 4515); `now` gives the date-time placeholders. */
export function fillValues(filter: string, values: FilterValues, now: Date = new Date()): string {
  return filter.replace(PLACEHOLDER, (whole, name: string) => {
    switch (name) {
      case 'input':
      case 'username':
      case 'dn': {
        const value = values[name];
        // A placeholder with no value is a configuration mistake caught at start; never search for a wildcard.
        if (value === undefined) throw new Error(`filter placeholder {${name}} has no value here`);
        return escapeFilterValue(value);
      }
      case 'date-time:generalized':
        return generalizedTime(now);
      case 'date-time:microsoft-nt':
        // 100 ns intervals since 1601-01-01 (Active Directory's accountExpires).
        return (BigInt(now.getTime()) * 10_000n + 116_444_736_000_000_000n).toString();
      case 'date-time:unix':
        return Math.floor(now.getTime() / 1000).toString();
      default:
        return whole;
    }
  });
}

/** RFC 4517 GeneralizedTime in UTC, to the second: 20261127180000Z. */
function generalizedTime(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
}
