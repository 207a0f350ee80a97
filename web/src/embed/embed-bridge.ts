/**
 * The page's end of the postMessage API (README.md beside this file): when
 * Headlight runs inside a frame, it takes commands from its parent window and
 * tells the parent when it is ready and whenever its state changes.
 *
 * Only the parent window is listened to: another frame of the host page cannot
 * drive the explorer. Any origin may embed Headlight, so the parent's origin is
 * not checked; what a host can do is what a reader can do with the mouse.
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

/** Starts the bridge if this page is framed; returns null when it is not. */
export function startEmbedBridge(app: HeadlightApp, win: Window = window): BridgeHandle | null {
  const parent = win.parent;
  if (!parent || parent === win) return null;
  let isReady = false;

  const post = (event: HeadlightEvent, targetOrigin = '*') => {
    try {
      parent.postMessage(event, targetOrigin);
    } catch (error) {
      console.warn('Headlight could not post to the host page:', error);
    }
  };
  const fail = (message: string, request: string | null, origin: string) =>
    post({ type: 'headlight:error', message, request }, origin);

  const apply = async (command: HostCommand, request: string, origin: string) => {
    const state = app.getState();
    switch (command.kind) {
      case 'set-text':
        app.setText(command.text);
        return;
      case 'set-edits': {
        const outside = headsOutside(command.edits, state.model, state.n_layer, state.n_head);
        if (outside) return fail(`${request}: ${outside}`, request, origin);
        app.setEdits(command.edits);
        return;
      }
      case 'select-head': {
        const outside = headsOutside([command.head], state.model, state.n_layer, state.n_head);
        if (outside) return fail(`${request}: ${outside}`, request, origin);
        app.selectHead(command.head.layer, command.head.head);
        return;
      }
      case 'set-model':
        try {
          await app.setModel(command.model);
        } catch (error) {
          fail(`${request}: ${messageOf(error)}`, request, origin);
        }
        return;
      case 'reset':
        app.resetEdits();
        return;
      case 'get-state':
        post(
          {
            type: 'headlight:state',
            reason: 'get-state',
            state: app.getState(),
            analysis: app.getAnalysis(),
          },
          origin,
        );
        return;
    }
  };

  const onMessage = (event: MessageEvent) => {
    if (event.source !== parent) return;
    const parsed = parseHostMessage(event.data);
    if (parsed.ignored) return;
    // A file:// host has origin "null", which cannot be a target: answer to any.
    const origin = event.origin && event.origin !== 'null' ? event.origin : '*';
    if ('error' in parsed) return fail(parsed.error, parsed.request, origin);
    // Commands before the first model is drawn wait for it (the host may send at once).
    void app
      .ready()
      .then(() => apply(parsed.command, `headlight:${parsed.command.kind}`, origin))
      .catch((error: unknown) =>
        fail(messageOf(error), `headlight:${parsed.command.kind}`, origin),
      );
  };
  win.addEventListener('message', onMessage);

  const unsubscribe = app.onChange((state, reason: ChangeReason) => {
    if (isReady) post({ type: 'headlight:state', reason, state, analysis: app.getAnalysis() });
  });
  void app.ready().then(() => {
    isReady = true;
    post({ type: 'headlight:ready', state: app.getState(), analysis: app.getAnalysis() });
  });

  // The content height, so an element with height="auto" can fit it.
  let lastHeight = 0;
  const sizer = new ResizeObserver(() => {
    // The <html> box, not scrollHeight: that is never less than the frame itself.
    const height = Math.ceil(win.document.documentElement.getBoundingClientRect().height);
    if (height === lastHeight) return;
    lastHeight = height;
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
