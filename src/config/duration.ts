// Authelia-style durations: "90s", "5m", "1h30m", "1d", "1w", "1M", "1y", or a number of seconds.
const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
  M: 2592000,
  month: 2592000,
  months: 2592000,
  y: 31536000,
  year: 31536000,
  years: 31536000,
};

const PART = /(\d+(?:\.\d+)?)\s*([a-zA-Z]+)/y;

/** Parses a duration into seconds; returns an error message instead of throwing. */
export function parseDuration(value: unknown): { seconds: number } | { error: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { error: 'must be a finite number of seconds' };
    return { seconds: value };
  }
  if (typeof value !== 'string') return { error: 'must be a duration string like "5m" or a number of seconds' };
  const text = value.trim();
  if (text === '') return { error: 'must not be empty' };
  if (/^-?\d+$/.test(text)) return { seconds: Number(text) };
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  let total = 0;
  let consumed = 0;
  for (;;) {
    while (body[consumed] === ' ') consumed++;
    if (consumed >= body.length) break;
    PART.lastIndex = consumed;
    const match = PART.exec(body);
    if (!match) return { error: `could not parse duration "${value}"` };
    const unit = UNIT_SECONDS[match[2]!] ?? UNIT_SECONDS[match[2]!.toLowerCase()];
    if (unit === undefined) return { error: `unknown duration unit "${match[2]}" in "${value}"` };
    total += Number(match[1]) * unit;
    consumed = PART.lastIndex;
  }
  return { seconds: negative ? -total : total };
}
