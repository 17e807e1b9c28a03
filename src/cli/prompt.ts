// Reading a password for `hash-password`: on a terminal, a prompt with the input hidden (never echoed); otherwise
// one line from stdin, as scripts pipe it in.
import { createInterface } from 'node:readline';

/** The first line of stdin ('' when it is empty). */
export async function readLine(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const rl = createInterface({ input, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

export class PromptCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'PromptCancelled';
  }
}

/**
 * Asks on stderr (stdout carries only the hash) and reads a line from the terminal in raw mode, so nothing typed is
 * echoed. Backspace edits, Ctrl-C and Ctrl-D on an empty line cancel.
 */
export function askHidden(
  prompt: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
  keepRaw = false,
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Raw (no echo) before the prompt shows: whatever is typed once it is visible is never echoed.
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    output.write(prompt);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const finish = (error?: Error) => {
      input.off('data', onData);
      if (!keepRaw || error) input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return finish();
        if (character === '\u0003' || (character === '\u0004' && value === '')) return finish(new PromptCancelled());
        if (character === '\u007f' || character === '\b') value = [...value].slice(0, -1).join('');
        else if (character >= ' ') value += character;
      }
    };
    input.on('data', onData);
  });
}

/** A new password, typed twice on a terminal; undefined when the two differ. */
export async function askNewPassword(input: NodeJS.ReadStream = process.stdin): Promise<string | undefined> {
  const wasRaw = input.isRaw;
  try {
    // Still raw between the two prompts, so nothing typed ahead is echoed.
    const first = await askHidden('Password: ', input, process.stderr, true);
    if (first === '') return '';
    const second = await askHidden('Confirm password: ', input, process.stderr, true);
    return first === second ? first : undefined;
  } finally {
    input.setRawMode(wasRaw);
  }
}
