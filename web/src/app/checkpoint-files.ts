/**
 * The files of the training checkpoints the page has loaded, kept so that
 * scrubbing back to a step (or playing the timeline again) loads it without
 * a download. A checkpoint's four files are fetched once, with progress;
 * the worker gets a copy of the weights each time (it takes ownership of
 * what it is sent). Bounded: the least recently used go first once the
 * weights held pass MAX_BYTES (attn-only-2l's 20 checkpoints are 24 MB).
 */
import { fetchModelFiles } from '../engine/fetch-bytes';
import type { LocalModelFiles, Progress } from '../engine/protocol';

const MAX_BYTES = 64 * 1024 * 1024;

export class CheckpointFiles {
  /** name -> files, in order of use (Map keeps insertion order: the first is the oldest). */
  private readonly held = new Map<string, LocalModelFiles>();

  /** How many checkpoints are held, and their weights' bytes (tests read them through the page). */
  stats(): { count: number; bytes: number } {
    let bytes = 0;
    for (const files of this.held.values()) bytes += files.safetensors.byteLength;
    return { count: this.held.size, bytes };
  }

  /**
   * The files of checkpoint `name` under folder URL `base`, downloaded the
   * first time; a copy of the weights, ready to be transferred to the worker.
   */
  async files(name: string, base: URL, report: (progress: Progress) => void): Promise<LocalModelFiles> {
    let files = this.held.get(name);
    if (files) {
      this.held.delete(name);
    } else {
      files = await fetchModelFiles(name, base, report);
    }
    this.held.set(name, files);
    this.evict();
    return { ...files, safetensors: files.safetensors.slice() };
  }

  private evict(): void {
    while (this.held.size > 1 && this.stats().bytes > MAX_BYTES) {
      const oldest = this.held.keys().next().value as string;
      this.held.delete(oldest);
    }
  }
}
