// The UserProvider port: who the users are and whether a password is theirs (file backend; LDAP later).
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
}
