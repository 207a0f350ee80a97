/**
 * <headlight-explorer>: Headlight in any page, on any site, as one custom element.
 *
 *   <script src="https://example.org/headlight/embed/headlight-explorer.js"></script>
 *   <headlight-explorer model="gpt-4l" text="The cat sat" muted="1.3,0.5"></headlight-explorer>
 *
 * A classic script (an IIFE, built by web/config/element-bundle.ts), not an
 * ES module: a module from another origin needs CORS headers from its
 * server, a classic script does not, so the element works from any static
 * host with no special headers. It makes no request of its own.
 *
 * Why an iframe inside the shadow root, and not the page's views mounted in
 * place: the explorer runs a wasm engine in a worker, needs a CSP with
 * 'wasm-unsafe-eval', its own stylesheet and ~200 DOM nodes of layout. In an
 * iframe of Headlight's own index.html (`?embed=1`) none of that touches the
 * host page: the host's CSS cannot break it, its CSS cannot leak out, the
 * host's CSP needs only `frame-src` for Headlight's origin, and the element is
 * a thin file (attributes -> URL, messages both ways) instead of a second build
 * of the whole app. The frame may be on another origin: the element only
 * talks to it with postMessage, addressed to the frame's origin.
 *
 * Attributes (parsed in attributes.ts) become the iframe's URL hash, so the
 * page starts in the right state with one model load. Once the explorer is
 * running (or messages wait for it), a later attribute change becomes
 * postMessage API messages for what changed (attribute-messages.ts), queued
 * with the host's own element.send() messages; only `base` loads the page
 * again. Host scripts listen to the events the element re-dispatches:
 * "headlight-ready", "headlight-state", "headlight-error" (detail = message).
 * With height="auto" (the default) the element follows the page's
 * "headlight:size" messages.
 */
import { messagesForChange } from './attribute-messages';
import {
  ATTRIBUTES,
  type EmbedOptions,
  FRAME_HEIGHT_PX,
  parseAttributes,
  type ParsedAttributes,
} from './attributes';
import { embedPageUrl } from './embed-url';
import type { HeadlightEvent, HostMessage } from './host-messages';

/**
 * This script's URL (the default base is the folder above it), read while
 * the script runs, the only time document.currentScript is set. Loaded as a
 * module (the snippets before the classic build said type="module") it has
 * no currentScript: its tag is found by name instead.
 */
const SCRIPT_URL = ((): string => {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.src) return current.src;
  const tags = document.querySelectorAll<HTMLScriptElement>('script[src*="headlight-explorer"]');
  return tags[tags.length - 1]?.src ?? document.baseURI;
})();

const STYLE = `
:host { display: block; position: relative; contain: content; }
:host([hidden]) { display: none; }
.frame {
  display: block; box-sizing: border-box; width: 100%; height: 100%;
  border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 6px; background: transparent;
}
.problems {
  margin: 0 0 6px; padding: 8px 12px; border-radius: 6px; font: 14px/1.4 system-ui, sans-serif;
  background: #fdeeec; color: #8c1d13; border: 1px solid #f2c4bd;
}
.problems ul { margin: 4px 0 0; padding-left: 20px; }
@media (prefers-color-scheme: dark) {
  .problems { background: #3a1c19; color: #ffb4a9; border-color: #5c2b25; }
}
`;
/** The frame's border, top plus bottom: height="auto" adds it to the content height. */
const FRAME_BORDER_PX = 2;
/** height="auto" never collapses below this, whatever the page reports. */
const MIN_AUTO_HEIGHT_PX = 120;

export class HeadlightExplorer extends HTMLElement {
  static get observedAttributes(): readonly string[] {
    return ATTRIBUTES;
  }

  private readonly problemsBox: HTMLElement;
  private readonly frame: HTMLIFrameElement;
  private readonly frameBox: HTMLElement;
  private parsed: ParsedAttributes | null = null;
  /** The options the explorer was last given (by its URL or by messages). */
  private applied: EmbedOptions | null = null;
  private ready = false;
  private pending: HostMessage[] = [];
  private scheduled = false;
  private autoHeight = false;
  /** The explorer's content height as it last reported it (0: not yet). */
  private contentHeight = 0;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    // A constructed stylesheet is not an inline <style>: a strict host CSP allows it.
    if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = STYLE;
      root.append(style);
    }
    this.problemsBox = document.createElement('div');
    this.problemsBox.className = 'problems';
    this.problemsBox.setAttribute('role', 'alert');
    this.problemsBox.hidden = true;
    this.frameBox = document.createElement('div');
    this.frame = document.createElement('iframe');
    this.frame.className = 'frame';
    this.frame.title = 'Headlight: the attention heads of a small GPT, editable';
    this.frame.setAttribute('loading', 'lazy');
    this.frameBox.append(this.frame);
    root.append(this.problemsBox, this.frameBox);
  }

  connectedCallback(): void {
    window.addEventListener('message', this.onMessage);
    this.update();
  }

  disconnectedCallback(): void {
    window.removeEventListener('message', this.onMessage);
    // Moving the element reloads its iframe, which says ready again and
    // starts from its URL: on the way back, update() rewrites that URL.
    this.ready = false;
    this.applied = null;
  }

  attributeChangedCallback(): void {
    // Several attributes set in a row (by a framework) make one update.
    if (this.scheduled || !this.isConnected) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.update();
    });
  }

  /** The parsed attributes and any problems with them (for hosts and tests). */
  get options(): ParsedAttributes | null {
    return this.parsed;
  }

  /** The explorer's window, once the iframe exists. */
  get contentWindow(): Window | null {
    return this.frame.contentWindow;
  }

  /** Sends a postMessage API message; queued until the explorer is ready. */
  send(message: HostMessage): void {
    if (this.ready && this.frame.contentWindow) {
      this.frame.contentWindow.postMessage(message, this.frameOrigin());
    } else {
      this.pending.push(message);
    }
  }

  /** The explorer's origin; '*' for file:// pages, whose opaque origin "null" cannot be named. */
  private frameOrigin(): string {
    const origin = new URL(this.frame.src, document.baseURI).origin;
    return origin === 'null' ? '*' : origin;
  }

  private update(): void {
    const attributes = Object.fromEntries(
      ATTRIBUTES.map((name) => [name, this.getAttribute(name)]),
    );
    let parsed: ParsedAttributes;
    try {
      parsed = parseAttributes(attributes, SCRIPT_URL, document.baseURI);
    } catch (error) {
      // parseAttributes reports problems instead of throwing; this is the last guard.
      parsed = parseAttributes({}, SCRIPT_URL, document.baseURI);
      parsed.problems.push(
        `could not read the attributes: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    this.parsed = parsed;
    this.showProblems(parsed.problems);
    // "auto" follows the page's size messages; until the first, it is as tall
    // as the iframe snippet.
    this.autoHeight = parsed.options.height === 'auto';
    if (!this.autoHeight) this.frameBox.style.height = parsed.options.height;
    else this.fitContent();

    const options = parsed.options;
    const before = this.applied;
    this.applied = options;
    const src = embedPageUrl(options, options.base);
    if (before && before.base === options.base && (this.ready || this.pending.length > 0)) {
      // The explorer runs, or messages wait for it: tell it what changed, in
      // order with those messages, and nothing else (a sent text stays).
      for (const message of messagesForChange(before, options)) this.send(message);
      return;
    }
    const current = this.frame.getAttribute('src');
    if (current === src) return;
    // A new base loads the page again; before the explorer runs, a new hash
    // is applied by the page without reloading (a same-document navigation).
    const sameDocument = current !== null && current.split('#')[0] === src.split('#')[0];
    if (!sameDocument) this.ready = false;
    this.frame.src = src;
  }

  private fitContent(): void {
    const height =
      this.contentHeight > 0
        ? Math.max(MIN_AUTO_HEIGHT_PX, this.contentHeight + FRAME_BORDER_PX)
        : FRAME_HEIGHT_PX;
    this.frameBox.style.height = `${height}px`;
  }

  private showProblems(problems: string[]): void {
    this.problemsBox.hidden = problems.length === 0;
    if (problems.length === 0) return;
    const title = document.createElement('strong');
    const what = problems.length === 1 ? 'an attribute was' : 'some attributes were';
    title.textContent = `<headlight-explorer>: ${what} ignored`;
    const list = document.createElement('ul');
    for (const problem of problems) {
      const item = document.createElement('li');
      item.textContent = problem; // text, never HTML: attribute values are echoed
      list.append(item);
    }
    this.problemsBox.replaceChildren(title, list);
  }

  private readonly onMessage = (event: MessageEvent): void => {
    if (event.source === null || event.source !== this.frame.contentWindow) return;
    const origin = this.frameOrigin();
    if (origin !== '*' && event.origin !== origin) return;
    const data = event.data as HeadlightEvent | null;
    if (!data || typeof data.type !== 'string' || !data.type.startsWith('headlight:')) return;
    if (data.type === 'headlight:size') {
      if (Number.isFinite(data.height)) this.contentHeight = data.height;
      if (this.autoHeight) this.fitContent();
      return;
    }
    if (data.type === 'headlight:ready') {
      this.ready = true;
      for (const message of this.pending.splice(0)) this.send(message);
    }
    this.dispatchEvent(new CustomEvent(data.type.replace(':', '-'), { detail: data }));
  };
}

if (!customElements.get('headlight-explorer')) {
  customElements.define('headlight-explorer', HeadlightExplorer);
}

declare global {
  interface HTMLElementTagNameMap {
    'headlight-explorer': HeadlightExplorer;
  }
}
