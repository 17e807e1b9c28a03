// The owner's side of the session mirror (session-mirror.ts; docs/design/authz-isolate.md): every change of the
// cache's fresh set is posted in order, and a beat every `beatMs` says the owner is alive. A beat is posted from
// setImmediate, after the I/O of its event-loop turn: when the owner comes back from a block, the invalidations
// Redis sent meanwhile are read (and their `stale` posted) before the beat that makes the mirror answer again.
import type { SessionCache } from './session-cache.js';
import type { MirrorMessage } from './session-mirror.js';

export interface MirrorFeedOptions {
  /** How often the owner says it is alive (ms); the mirror's `maxSilenceMs` must allow a few missed beats. */
  beatMs: number;
}

/** Starts feeding `post` (a MessagePort's postMessage) from `cache`; the returned function stops it. */
export function feedMirror(
  cache: SessionCache,
  post: (message: MirrorMessage) => void,
  options: MirrorFeedOptions,
): () => void {
  let stopped = false;
  cache.watch((change) => {
    if (!stopped) post(change);
  });
  const beat = () => {
    if (!stopped) post({ kind: 'beat' });
  };
  const timer = setInterval(() => setImmediate(beat), options.beatMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
