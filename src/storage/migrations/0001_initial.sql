-- 0001_initial: the authentication log (regulation), user preferences, and the WebAuthn and identity
-- verification tables. Shipped: never edit this file; add a new numbered one instead.
-- Addresses, URIs and names are text, not inet/varchar(n): they come from requests and must never make an
-- insert fail.

CREATE TABLE authentication_logs (
  id bigserial PRIMARY KEY,
  time timestamptz NOT NULL,
  successful boolean NOT NULL,
  banned boolean NOT NULL DEFAULT false,
  username text NOT NULL,
  auth_type text NOT NULL,
  remote_ip text NOT NULL,
  request_uri text NOT NULL,
  request_method text NOT NULL
);
CREATE INDEX authentication_logs_username_time_idx ON authentication_logs (username, time DESC);
CREATE INDEX authentication_logs_remote_ip_time_idx ON authentication_logs (remote_ip, time DESC);

CREATE TABLE user_preferences (
  username text PRIMARY KEY,
  second_factor_method text NULL
);

-- The random user handle WebAuthn authenticators store with a discoverable credential (never the username).
CREATE TABLE webauthn_users (
  id bigserial PRIMARY KEY,
  rpid text NOT NULL,
  username text NOT NULL,
  user_id text NOT NULL UNIQUE,
  UNIQUE (rpid, username)
);

CREATE TABLE webauthn_credentials (
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NULL,
  rpid text NOT NULL,
  username text NOT NULL,
  description text NOT NULL,
  kid text NOT NULL UNIQUE,
  aaguid uuid NULL,
  attestation_type text NOT NULL,
  attachment text NOT NULL,
  transports text NOT NULL DEFAULT '',
  sign_count bigint NOT NULL DEFAULT 0,
  clone_warning boolean NOT NULL DEFAULT false,
  discoverable boolean NOT NULL,
  present boolean NOT NULL,
  verified boolean NOT NULL,
  backup_eligible boolean NOT NULL,
  backup_state boolean NOT NULL,
  public_key bytea NOT NULL,
  attestation bytea NULL,
  legacy_u2f_appid text NULL,
  UNIQUE (rpid, username, description)
);
CREATE INDEX webauthn_credentials_username_idx ON webauthn_credentials (username, rpid);

CREATE TABLE identity_verification (
  id bigserial PRIMARY KEY,
  jti uuid NOT NULL UNIQUE,
  iat timestamptz NOT NULL,
  issued_ip text NOT NULL,
  exp timestamptz NOT NULL,
  username text NOT NULL,
  action text NOT NULL,
  consumed timestamptz NULL,
  consumed_ip text NULL
);
