/**
 * The iframe embed mode (`?embed=1`): the same page in a compact layout for a
 * frame in someone else's article. embed.css hides the masthead's tagline,
 * the model picker, presets, long explanations, export and footer
 * (html[data-embed]); the text, tokens, predictions and head grid stay, and
 * the head detail and edits when the frame is wide. A small link opens the
 * same picture in the full page, in a new tab.
 */
import type { AppSnapshot, HeadlightApp } from '../app/app-api';
import { embedHashOf } from './embed-code';

/** True for `?embed=1` (or `#...&embed=1`, which the URL table reads). */
export function isEmbedUrl(url: string): boolean {
  const parsed = new URL(url);
  const flag = parsed.searchParams.get('embed');
  if (flag === '1' || flag === 'true') return true;
  return /(?:^#|&)embed=(?:1|true)(?:&|$)/.test(parsed.hash);
}

/** The full page's URL for a state (every choice but the embed flag). */
export function fullPageUrl(state: AppSnapshot, pageUrl: string): string {
  const url = new URL(pageUrl);
  url.searchParams.delete('embed');
  url.hash = embedHashOf({ ...state, embed: false });
  return url.href;
}

export function startEmbedMode(
  app: HeadlightApp,
  root: HTMLElement = document.documentElement,
): void {
  root.dataset['embed'] = 'true';
  const link = document.createElement('a');
  link.className = 'embed-open-full';
  link.dataset['role'] = 'open-in-headlight';
  link.target = '_blank';
  link.rel = 'noopener';
  link.textContent = 'Open in Headlight ↗';
  link.title = 'The full explorer with this model, text and edits, in a new tab';
  const masthead = document.querySelector<HTMLElement>('[data-panel="header"]');
  const update = () => {
    link.href = fullPageUrl(app.getState(), window.location.href);
    // In the masthead's top row; at the bottom of the page when a lesson hides the masthead.
    const home =
      masthead && !masthead.hidden
        ? (masthead.querySelector('.model-bar') ?? masthead)
        : document.body;
    if (link.parentElement !== home) home.append(link);
  };
  update();
  app.onChange(update);
}
