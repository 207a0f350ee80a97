/**
 * The page's end of the postMessage API (README.md beside this file): when
 * Headlight runs inside a frame, it takes commands from its parent window and
 * tells the parent when it is ready and whenever its state changes.
 *
 * Only the parent window is listened to: another frame of the host page cannot
 * drive the explorer. Any origin may embed Headlight (the <headlight-explorer>
 * element of a page on another site frames this page too), so the parent's
 * origin is not checked; what a host can do is what a reader can do with the
 * mouse. Everything this page posts is addressed to the parent's origin only.
 */
import type { ChangeReason, HeadlightApp } from '../app/app-api';
import {
  type HeadlightEvent,
  type HostCommand,
  headsOutside,
  parseHostMessage,
} from './host-messages';

export interface BridgeHandle {
  stop(): void;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The parent's origin, so that every message is addressed to it alone:
 * location.ancestorOrigins (Chromium, Safari) knows it from the start; '*'
 * where it is unknown (Firefox, until the parent's first message) or is the
 * opaque "null" of a file:// or sandboxed parent, which cannot be named.
 */
function parentOriginOf(win: Window): string {
  const origin = win.location.ancestorOrigins?.[0];
  return origin && origin !== 'null' ? origin : '*';
}

/** Starts the bridge if this page is framed; returns null when it is not. */
export function startEmbedBridge(app: HeadlightApp, win: Window = window): BridgeHandle | null {
  const parent = win.parent;
  if (!parent || parent === win) return null;
  const link = {
    /** The parent's origin, or '*' while it is unknown. */
    origin: parentOriginOf(win),
    isReady: false,
    /**
     * Commands run one after the other, in the order they came: a set-edits
     * after a set-model applies to the new model, not to the old one.
     */
    queue: app.ready(),
  };

  const post = (event: HeadlightEvent) => {
    try {
      parent.postMessage(event, link.origin);
    } catch (error) {
      console.warn('Headlight could not post to the host page:', error);
    }
  };
  const fail = (message: string, request: string | null) =>
    post({ type: 'headlight:error', message, request });

  const apply = async (command: HostCommand, request: string) => {
    const state = app.getState();
    switch (command.kind) {
      case 'set-text':
        app.setText(command.text);
        return;
      case 'set-edits': {
        const outside = headsOutside(command.edits, state.model, state.n_layer, state.n_head);
        if (outside) return fail(`${request}: ${outside}`, request);
        app.setEdits(command.edits);
        return;
      }
      case 'select-head': {
        const outside = headsOutside([command.head], state.model, state.n_layer, state.n_head);
        if (outside) return fail(`${request}: ${outside}`, request);
        app.selectHead(command.head.layer, command.head.head);
        return;
      }
      case 'select-position':
        app.selectPosition(command.position);
        return;
      case 'set-display': {
        const { view, colorMode, source, hidden } = command.display;
        if (view) app.setView(view);
        if (colorMode) app.setColorMode(colorMode);
        if (source) app.setSource(source);
        if (hidden) app.setHidden(hidden);
        return;
      }
      case 'set-model':
        try {
          await app.setModel(command.model);
        } catch (error) {
          fail(`${request}: ${messageOf(error)}`, request);
        }
        return;
      case 'reset':
        app.resetEdits();
        return;
      case 'get-state':
        post({
          type: 'headlight:state',
          reason: 'get-state',
          state: app.getState(),
          analysis: app.getAnalysis(),
        });
        return;
    }
  };

  const onMessage = (event: MessageEvent) => {
    // Any origin may embed Headlight: the parent window is trusted as such,
    // whatever its origin, and no other window (another frame of the host) is.
    if (event.source !== parent) return;
    if (event.origin && event.origin !== 'null') link.origin = event.origin;
    // parseHostMessage describes bad values without serialising them; this
    // guard is for the unforeseen, so that a host always gets an answer.
    let parsed: ReturnType<typeof parseHostMessage>;
    try {
      parsed = parseHostMessage(event.data);
    } catch (error) {
      return fail(`the message could not be read: ${messageOf(error)}`, null);
    }
    if (parsed.ignored) return;
    if ('error' in parsed) return fail(parsed.error, parsed.request);
    // Commands before the first model is drawn wait for it (the host may send at once).
    const request = `headlight:${parsed.command.kind}`;
    link.queue = link.queue
      .then(() => apply(parsed.command, request))
      .catch((error: unknown) => fail(messageOf(error), request));
  };
  win.addEventListener('message', onMessage);

  const unsubscribe = app.onChange((state, reason: ChangeReason) => {
    if (link.isReady) post({ type: 'headlight:state', reason, state, analysis: app.getAnalysis() });
  });
  void app.ready().then(() => {
    link.isReady = true;
    post({ type: 'headlight:ready', state: app.getState(), analysis: app.getAnalysis() });
  });

  // The content height, so an element with height="auto" can fit it.
  const size = { last: 0 };
  const sizer = new ResizeObserver(() => {
    // The <html> box, not scrollHeight: that is never less than the frame itself.
    const height = Math.ceil(win.document.documentElement.getBoundingClientRect().height);
    if (height === size.last) return;
    size.last = height;
    post({ type: 'headlight:size', height });
  });
  sizer.observe(win.document.body);

  return {
    stop() {
      win.removeEventListener('message', onMessage);
      sizer.disconnect();
      unsubscribe();
    },
  };
}
