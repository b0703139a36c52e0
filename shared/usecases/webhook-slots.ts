/**
 * At most `limit` attempts in flight per webhook in this process, so one slow endpoint cannot
 * take every worker. On AWS each dispatcher container has its own slots and the event source's
 * maximum concurrency bounds the containers; on one machine this is the only dispatcher.
 */
export class WebhookSlots {
  private readonly limit: number;
  private readonly inFlight = new Map<string, number>();
  constructor(limit: number) {
    this.limit = limit;
  }

  tryAcquire(webhookId: string): boolean {
    const n = this.inFlight.get(webhookId) ?? 0;
    if (n >= this.limit) return false;
    this.inFlight.set(webhookId, n + 1);
    return true;
  }

  release(webhookId: string): void {
    const n = (this.inFlight.get(webhookId) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(webhookId);
    else this.inFlight.set(webhookId, n);
  }
}
