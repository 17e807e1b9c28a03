-- 0003_recovery_codes: single-use recovery codes, a second factor for a user who lost every key (issue 11).
-- A user has at most one set; generating a new set deletes the old one (and its codes) in the same transaction.
-- Codes are never stored: only SHA-256(salt || code), with a random salt per set (docs/decisions.md says why a
-- fast hash is enough for 60-bit random codes). Shipped: never edit this file; add a new numbered one instead.

CREATE TABLE recovery_code_sets (
  id bigserial PRIMARY KEY,
  username text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  salt bytea NOT NULL
);

CREATE TABLE recovery_codes (
  id bigserial PRIMARY KEY,
  set_id bigint NOT NULL REFERENCES recovery_code_sets (id) ON DELETE CASCADE,
  code_hash bytea NOT NULL,
  used_at timestamptz NULL,
  used_ip text NULL,
  UNIQUE (set_id, code_hash)
);
