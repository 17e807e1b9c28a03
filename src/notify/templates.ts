// The messages Gatehouse sends (SPEC §7), each as a title plus a plain-text and an HTML part. Every message is made
// by `compose` from the same parts, so both renderings always say the same thing. The HTML is inline-styled (mail
// clients drop <style> and block remote content), loads nothing remote, and escapes every value through `html`.
import { html, type SafeHtml } from '../text/html.js';
import { oneLine } from './notifier.js';

export interface MessageContent {
  title: string;
  text: string;
  html: string;
}

interface Parts {
  title: string;
  displayName: string;
  /** Paragraphs before the action. */
  intro: string[];
  /** The button (HTML) / the bare link on its own line (text). */
  action?: { label: string; url: string };
  /** Label/value rows about the event: when, from where, what. */
  facts: [string, string][];
  /** Paragraphs after the facts. */
  outro: string[];
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const COLORS = {
  page: '#f3f5f8',
  card: '#ffffff',
  border: '#dfe3ea',
  text: '#1a1f2b',
  muted: '#5b6474',
  accent: '#2f5bd3',
};

function compose(parts: Parts): MessageContent {
  // Links are made by Gatehouse from its configured portal URL; anything else (javascript:, data:) is a bug.
  if (parts.action && !/^https?:\/\//i.test(parts.action.url)) throw new Error('a message link must be an http(s) URL');
  return { title: parts.title, text: composeText(parts), html: composeHtml(parts).toString() };
}

function composeText(parts: Parts): string {
  const lines = [`Hello ${oneLine(parts.displayName)},`, ''];
  for (const paragraph of parts.intro) lines.push(paragraph, '');
  // The link alone on its line (SPEC §7): mail clients make it clickable, people can copy it whole.
  if (parts.action) lines.push(parts.action.url, '');
  for (const [label, value] of parts.facts) lines.push(`${label}: ${oneLine(value)}`);
  if (parts.facts.length > 0) lines.push('');
  for (const paragraph of parts.outro) lines.push(paragraph, '');
  lines.push('— Gatehouse');
  return `${lines.join('\n')}\n`;
}

function composeHtml(parts: Parts): SafeHtml {
  const paragraph = (text: string) => html`<p style="margin:0 0 16px;line-height:1.5;">${text}</p>\n`;
  const action = parts.action
    ? html`<p style="margin:24px 0;"><a href="${parts.action.url}" style="display:inline-block;background:${COLORS.accent};color:#ffffff;text-decoration:none;font-weight:600;padding:12px 22px;border-radius:8px;">${parts.action.label}</a></p>
<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:${COLORS.muted};">If the button does not work, copy this link into your browser:<br><a href="${parts.action.url}" style="color:${COLORS.accent};word-break:break-all;">${parts.action.url}</a></p>\n`
    : '';
  const facts =
    parts.facts.length === 0
      ? ''
      : html`<table role="presentation" style="border-collapse:collapse;margin:8px 0 20px;font-size:14px;">
${parts.facts.map(([label, value]) => html`<tr><td style="padding:4px 16px 4px 0;color:${COLORS.muted};vertical-align:top;">${label}</td><td style="padding:4px 0;">${oneLine(value)}</td></tr>\n`)}</table>\n`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${parts.title}</title>
</head>
<body style="margin:0;padding:24px 12px;background:${COLORS.page};font-family:${FONT};color:${COLORS.text};">
<div style="max-width:520px;margin:0 auto;background:${COLORS.card};border:1px solid ${COLORS.border};border-radius:14px;padding:28px 32px;">
<p style="margin:0 0 20px;font-weight:700;font-size:15px;color:${COLORS.accent};">Gatehouse</p>
<h1 style="margin:0 0 16px;font-size:22px;line-height:1.3;">${parts.title}</h1>
${paragraph(`Hello ${oneLine(parts.displayName)},`)}${parts.intro.map(paragraph)}${action}${facts}${parts.outro.map(paragraph)}</div>
<p style="max-width:520px;margin:16px auto 0;font-size:12px;color:${COLORS.muted};text-align:center;">This message was sent by Gatehouse, the sign-in gate of your organisation.</p>
</body>
</html>
`;
}

/** "5 minutes", "1 hour 30 minutes": the two largest units, for people. */
export function describeDuration(seconds: number): string {
  const units: [string, number][] = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
    ['second', 1],
  ];
  const words: string[] = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 && words.length < 2) words.push(`${count} ${name}${count === 1 ? '' : 's'}`);
  }
  return words.length === 0 ? '0 seconds' : words.join(' ');
}

const WHEN = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

/** "3 May 2024 at 14:05 UTC": one unambiguous zone, since the server cannot know the reader's. */
export function describeTime(at: Date): string {
  return `${WHEN.format(at)} UTC`;
}

export interface IdentityCheckInput {
  username: string;
  displayName: string;
  /** `<portal>/webauthn/register?token=...` */
  link: string;
  ip: string;
  /** When it was asked for. */
  at: Date;
  validForSeconds: number;
  /** What the link is for: registering a key (the default), or a change to the keys (rename, delete). */
  purpose?: 'register' | 'manage';
}

export function identityCheckMessage(input: IdentityCheckInput): MessageContent {
  const expires = new Date(input.at.getTime() + input.validForSeconds * 1000);
  return compose({
    title: 'Confirm your identity',
    displayName: input.displayName,
    intro: [
      `Someone signed in to Gatehouse as “${oneLine(input.username)}” asked to ${input.purpose === 'manage' ? 'change their security keys' : 'register a security key'}. If that was you, open this link to confirm your identity and continue:`,
    ],
    action: {
      label: input.purpose === 'manage' ? 'Confirm and continue' : 'Confirm and register a key',
      url: input.link,
    },
    facts: [
      ['Requested', describeTime(input.at)],
      ['From address', input.ip || 'unknown'],
      ['Link valid for', `${describeDuration(input.validForSeconds)}, once (until ${describeTime(expires)})`],
    ],
    outro: [
      'If it wasn’t you, ignore this email: nothing changes without the link. Whoever asked knows your password, so consider changing it.',
    ],
  });
}

/** What every security email (a key added or removed, a recovery code made or used) says of the event. */
export interface SecurityEmailInput {
  username: string;
  displayName: string;
  ip: string;
  at: Date;
  /** `<portal>/settings`, where the user reviews their keys and makes a new set of recovery codes. */
  settingsUrl?: string;
}

export interface KeyChangeInput extends SecurityEmailInput {
  keyName: string;
}

/** What differs between the two key-change messages. */
const KEY_CHANGES = {
  added: {
    doneTo: 'added to',
    factLabel: 'Added',
    advice: 'If that was you, there is nothing to do. If it wasn’t, sign in, delete this key and change your password.',
  },
  removed: {
    doneTo: 'removed from',
    factLabel: 'Removed',
    advice:
      'If that was you, there is nothing to do. If it wasn’t, sign in, check your remaining keys and change your password.',
  },
} as const;

function keyChangeMessage(input: KeyChangeInput, change: keyof typeof KEY_CHANGES): MessageContent {
  const { doneTo, factLabel, advice } = KEY_CHANGES[change];
  return compose({
    title: `A security key was ${change}`,
    displayName: input.displayName,
    intro: [
      `The security key “${oneLine(input.keyName)}” was ${doneTo} your Gatehouse account “${oneLine(input.username)}”.`,
    ],
    action: input.settingsUrl ? { label: 'Review your security keys', url: input.settingsUrl } : undefined,
    facts: [
      ['Key', input.keyName],
      [factLabel, describeTime(input.at)],
      ['From address', input.ip || 'unknown'],
    ],
    outro: [advice],
  });
}

export function keyAddedMessage(input: KeyChangeInput): MessageContent {
  return keyChangeMessage(input, 'added');
}

export function keyRemovedMessage(input: KeyChangeInput): MessageContent {
  return keyChangeMessage(input, 'removed');
}

export type RecoveryCodeInput = SecurityEmailInput;

/** Sent when a recovery code was used as the second factor: said at once, with how many codes are left. */
export function recoveryCodeUsedMessage(input: RecoveryCodeInput & { remaining: number }): MessageContent {
  const left =
    input.remaining === 0
      ? 'It was your last one: make a new set on the security keys page.'
      : `You have ${input.remaining} unused recovery code${input.remaining === 1 ? '' : 's'} left.`;
  return compose({
    title: 'A recovery code was used',
    displayName: input.displayName,
    intro: [
      `A recovery code was used instead of a security key to sign in to your Gatehouse account “${oneLine(input.username)}”. ${left}`,
    ],
    action: input.settingsUrl ? { label: 'Review your security keys', url: input.settingsUrl } : undefined,
    facts: [
      ['Used', describeTime(input.at)],
      ['From address', input.ip || 'unknown'],
      ['Codes left', String(input.remaining)],
    ],
    outro: [
      'If that was you, register a new security key if you lost yours. If it wasn’t, someone has your password and one of your recovery codes: sign in, make a new set of codes (the old ones then stop working) and change your password.',
    ],
  });
}

/** Sent when a new set of recovery codes was made (the earlier set, if any, stopped working). */
export function recoveryCodesGeneratedMessage(input: RecoveryCodeInput & { count: number }): MessageContent {
  return compose({
    title: 'New recovery codes were made',
    displayName: input.displayName,
    intro: [
      `A new set of ${input.count} recovery codes was made for your Gatehouse account “${oneLine(input.username)}”. Any codes made before no longer work.`,
    ],
    action: input.settingsUrl ? { label: 'Review your security keys', url: input.settingsUrl } : undefined,
    facts: [
      ['Made', describeTime(input.at)],
      ['From address', input.ip || 'unknown'],
    ],
    outro: [
      'If that was you, there is nothing to do: keep the codes somewhere safe. If it wasn’t, sign in, make a new set and change your password.',
    ],
  });
}
