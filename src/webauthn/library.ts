// @simplewebauthn/server, loaded by the first ceremony that needs it rather than at start-up: with its ASN.1 and
// CBOR stack it is about 14 MB of a replica's memory, which a replica that only answers the proxies never uses.
type Library = typeof import('@simplewebauthn/server');

let loading: Promise<Library> | undefined;

export function webauthnLibrary(): Promise<Library> {
  loading ??= import('@simplewebauthn/server').catch((error: unknown) => {
    loading = undefined; // not remembered: the next ceremony tries again
    throw error;
  });
  return loading;
}
