/**
 * "Copy embed code": a button that opens a small dialog with the two embed
 * snippets (custom element and iframe) for what the reader sees now, each with
 * a Copy button. The snippets are plain text in read-only text areas. Where a
 * snippet could not work (a page opened from disk, a model opened from the
 * reader's files), the dialog says so and what can be embedded instead
 * (embed-plan.ts).
 */
import type { HeadlightApp } from '../app/app-api';
import { fetchModelIndex } from '../engine/model-index';
import { embedPlan } from './embed-plan';

const COPIED_MESSAGE_MS = 2000;
const MAX_SNIPPET_ROWS = 10;

async function copyText(text: string, fallbackField: HTMLTextAreaElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (an old browser, a sandboxed frame): select the
    // text so Ctrl+C works, and try the old command.
    fallbackField.focus();
    fallbackField.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

interface SnippetField {
  section: HTMLElement;
  textarea: HTMLTextAreaElement;
  button: HTMLButtonElement;
  status: HTMLElement;
}

function snippetField(
  dialog: HTMLElement,
  role: string,
  title: string,
  explanation: string,
): SnippetField {
  const section = document.createElement('section');
  section.className = 'embed-snippet';
  const heading = document.createElement('h3');
  heading.id = `embed-${role}-title`;
  heading.textContent = title;
  const explain = document.createElement('p');
  explain.className = 'explain';
  explain.textContent = explanation;
  const textarea = document.createElement('textarea');
  textarea.readOnly = true;
  textarea.rows = 5;
  textarea.spellcheck = false;
  textarea.dataset['role'] = `embed-${role}`;
  textarea.setAttribute('aria-labelledby', heading.id);
  const row = document.createElement('div');
  row.className = 'embed-copy-row';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button';
  button.textContent = 'Copy';
  button.dataset['role'] = `copy-embed-${role}`;
  const status = document.createElement('span');
  status.className = 'embed-copy-status';
  status.setAttribute('aria-live', 'polite');
  row.append(button, status);
  section.append(heading, explain, textarea, row);
  dialog.append(section);
  return { section, textarea, button, status };
}

/** Adds the button to `slot` and builds the dialog (once). */
export function installEmbedDialog(app: HeadlightApp, slot: HTMLElement): HTMLButtonElement {
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'button embed-open';
  open.dataset['role'] = 'open-embed-dialog';
  open.textContent = 'Copy embed code';
  open.title = 'Put this explorer, as you see it now, in your own page';
  slot.append(open);

  const dialog = document.createElement('dialog');
  dialog.className = 'embed-dialog';
  dialog.dataset['role'] = 'embed-dialog';
  dialog.setAttribute('aria-labelledby', 'embed-dialog-title');
  const header = document.createElement('div');
  header.className = 'embed-dialog-header';
  const title = document.createElement('h2');
  title.id = 'embed-dialog-title';
  title.textContent = 'Embed this explorer';
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'button embed-close';
  close.textContent = 'Close';
  close.dataset['role'] = 'close-embed-dialog';
  header.append(title, close);
  dialog.append(header);
  const intro = document.createElement('p');
  intro.className = 'explain';
  intro.textContent =
    'Both snippets show this model, text, head edits, selected head and token. They load ' +
    'Headlight from this site, so the page you paste them into, on any site, needs no other ' +
    'files and its server no special headers.';
  const note = document.createElement('div');
  note.className = 'embed-note';
  note.dataset['role'] = 'embed-note';
  note.setAttribute('role', 'status');
  note.hidden = true;
  dialog.append(intro, note);

  const element = snippetField(
    dialog,
    'element',
    'Custom element',
    'For pages you write: one script tag and one element, as tall as its content. Change its ' +
      'attributes (text, muted, gains, head, pos, view, color, source, hide; height="560" for ' +
      'a fixed height) by hand or from your scripts.',
  );
  const iframe = snippetField(
    dialog,
    'iframe',
    'iframe',
    'For blogs and notebooks that allow only HTML: the compact embed mode in a frame.',
  );
  document.body.append(dialog);

  // The served models' names, asked once: a model not among them was opened from files.
  const served = { names: null as Promise<ReadonlySet<string> | null> | null };
  const servedModels = () => {
    served.names ??= fetchModelIndex().then(
      (index) => new Set(index.models.map((m) => m.name)),
      () => null, // no list now: the snippets as if the model were served
    );
    return served.names;
  };
  const fill = async () => {
    const plan = embedPlan(app.getState(), {
      pageUrl: document.baseURI,
      singleFile: document.documentElement.dataset['singleFile'] === 'true',
      servedModels: await servedModels(),
    });
    note.replaceChildren(
      ...(plan.note ?? []).map((text) => {
        const paragraph = document.createElement('p');
        paragraph.textContent = text;
        return paragraph;
      }),
    );
    note.hidden = plan.note === null;
    intro.hidden = plan.element === null && plan.iframe === null;
    element.textarea.value = plan.element ?? '';
    iframe.textarea.value = plan.iframe ?? '';
    element.section.hidden = plan.element === null;
    iframe.section.hidden = plan.iframe === null;
    for (const field of [element, iframe]) {
      field.status.textContent = '';
      // Tall enough for the whole snippet (long URLs wrap), within reason.
      const lines = field.textarea.value.split('\n').length;
      field.textarea.rows = Math.min(MAX_SNIPPET_ROWS, lines + 1);
    }
  };

  for (const field of [element, iframe]) {
    let timer: number | undefined;
    field.button.addEventListener('click', () => {
      void copyText(field.textarea.value, field.textarea).then((copied) => {
        field.status.textContent = copied
          ? 'Copied to the clipboard.'
          : 'Select the text and copy it (Ctrl+C).';
        window.clearTimeout(timer);
        timer = window.setTimeout(() => (field.status.textContent = ''), COPIED_MESSAGE_MS);
      });
    });
  }
  open.addEventListener('click', () => {
    void fill().then(() => dialog.showModal());
  });
  close.addEventListener('click', () => dialog.close());
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener('click', (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside =
      event.clientX >= box.left &&
      event.clientX <= box.right &&
      event.clientY >= box.top &&
      event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });
  // Keep open snippets in step when the reader edits behind the dialog (e.g. with keys).
  app.onChange(() => {
    if (dialog.open) void fill();
  });
  return open;
}
