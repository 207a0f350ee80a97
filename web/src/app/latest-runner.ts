/**
 * Runs one async job at a time and, while it runs, remembers only that
 * another run is wanted: typing fast never queues a backlog of forward passes,
 * and the last edit is always the one drawn.
 */
export class LatestRunner {
  private running = false;
  private wanted = false;

  constructor(private readonly job: () => Promise<void>) {}

  request(): void {
    this.wanted = true;
    if (!this.running) void this.pump();
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.wanted) {
        this.wanted = false;
        await this.job();
      }
    } finally {
      this.running = false;
    }
  }
}
