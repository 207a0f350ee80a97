/**
 * Token text as DOM text. Token strings come from the model's vocabulary and
 * from the reader's input: they are only ever written with textContent /
 * createTextNode, never parsed as HTML. Whitespace is made visible (GPT-2
 * tokens usually carry their leading space) with dimmed marks; the real
 * characters stay in data-text for copying and for tests.
 */
const WHITESPACE_MARKS: Record<string, string> = {
  ' ': '\u00b7',   // middle dot
  '\n': '\u21b5',  // downwards arrow with corner leftwards
  '\t': '\u2192',  // rightwards arrow
  '\r': '\u240d',  // symbol for carriage return
};

// Control, format (e.g. zero-width joiner), private-use and unassigned code
// points draw as nothing or as a tofu box: name them instead.
const INVISIBLE = /^\p{C}$/u;

function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function renderTokenText(target: HTMLElement, token: string): void {
  target.replaceChildren();
  target.dataset['text'] = token;
  let plain = '';
  const flush = () => {
    if (plain) target.append(document.createTextNode(plain));
    plain = '';
  };
  for (const ch of token) {
    const mark = WHITESPACE_MARKS[ch] ?? (INVISIBLE.test(ch) ? codePointName(ch) : undefined);
    if (mark === undefined) {
      plain += ch;
      continue;
    }
    flush();
    const span = document.createElement('span');
    span.className = 'ws';
    span.textContent = mark;
    target.append(span);
  }
  flush();
  if (token.length === 0) target.textContent = '\u2205';  // empty set: an empty token
}

/** A token for a title attribute: JSON-quoted so spaces and escapes show. */
export function quoteToken(token: string): string {
  return JSON.stringify(token);
}
