// What a session holds, and the per-cookie-domain settings that govern it.

/** 0 anonymous, 1 one factor (password), 2 two factors (SPEC §1). */
export type AuthLevel = 0 | 1 | 2;

export interface SessionData {
  /** '' while anonymous (a level-0 session exists only to carry ceremony state, e.g. a passkey challenge). */
  username: string;
  displayName: string;
  emails: string[];
  groups: string[];
  level: AuthLevel;
  /** The cookie domain the session was made for; presented for another one it is destroyed (SPEC §4). */
  cookieDomain: string;
  /** Epoch milliseconds. */
  createdAt: number;
  lastActivity: number;
  rememberMe: boolean;
  /** How level 1 was reached: after a passkey, the password is the second step (SPEC §5). Absent means password. */
  firstFactor?: 'password' | 'passkey';
  /** When the second factor was last passed (epoch ms): renaming/deleting keys accepts it within elevation_lifetime. */
  secondFactorAt?: number;
  /** Elevation through the emailed identity check lasts until this instant (epoch ms). */
  elevatedUntil?: number;
  /** Where the session was signed in, as its owner's session list shows it (labels from user-agent.ts, not the raw header). */
  browser?: string;
  os?: string;
  /** The client address at sign-in. */
  address?: string;
  /** Short-lived ceremony state (WebAuthn challenges), keyed by ceremony name. */
  pending?: Record<string, { value: string; expiresAt: number; extra?: Record<string, unknown> }>;
}

export interface Session {
  /** The raw ID as sent in the cookie; never logged, stored only hashed. */
  id: string;
  data: SessionData;
}
