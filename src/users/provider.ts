// The UserProvider port: who the users are and whether a password is theirs (users file or LDAP directory).
export interface UserDetails {
  username: string;
  displayName: string;
  emails: string[];
  groups: string[];
  disabled: boolean;
}

export interface UserProvider {
  /** The user as currently known (after the last reload), disabled ones included; undefined when absent. */
  get(username: string): UserDetails | undefined;
  /**
   * The user when the password is theirs and they are not disabled, else undefined. Unknown users cost the same
   * time as known ones (a dummy hash is verified), so the answer's timing says nothing about existence.
   */
  checkPassword(username: string, password: string): Promise<UserDetails | undefined>;
  close(): Promise<void>;
  /**
   * Backends that hold only the users signed in through them (LDAP): the user read from the backend now, undefined
   * when no longer there. Throws when the backend cannot answer (the caller fails closed, the session stays).
   */
  lookup?(username: string): Promise<UserDetails | undefined>;
  /** True when every session check must `lookup` (LDAP refresh_interval `always`). */
  readonly alwaysLookup?: boolean;
}

/**
 * The user a session names, as the session checks (authz, the portal) must see them: held in memory when the
 * backend holds them (no query on the authz path), else read from the backend.
 */
export async function currentUser(users: UserProvider, username: string): Promise<UserDetails | undefined> {
  if (users.lookup === undefined) return users.get(username);
  if (!users.alwaysLookup) {
    const held = users.get(username);
    if (held !== undefined) return held;
  }
  return users.lookup(username);
}
