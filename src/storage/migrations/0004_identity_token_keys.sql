-- 0004_identity_token_keys: the keys that sign the identity tokens handed to upstream apps (authz answers), shared
-- by every replica. Shipped: never edit this file; add a new numbered one instead.
-- The private key is stored sealed (AES-256-GCM under a key derived from a server secret, the kid as associated
-- data); the public key is plain JWK text, published at /.well-known/jwks.json while tokens it signed may live.
CREATE TABLE identity_token_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_jwk text NOT NULL,
  private_key bytea NOT NULL,
  created_at timestamptz NOT NULL,
  -- Replicas sign with the newest key whose [active_from, not_after) holds now; a successor is stored (and so
  -- published) before its active_from, so verifiers can fetch it before the first token it signs.
  active_from timestamptz NOT NULL,
  not_after timestamptz NOT NULL
);
CREATE INDEX identity_token_keys_not_after_idx ON identity_token_keys (not_after);
