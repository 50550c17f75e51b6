// Periodic work that holds other work up (a checkpoint cut pauses the readers; a partial round copies, encodes and
// compresses every partition's counts on the reading thread) is spaced by what it cost: after a run that took `ms`,
// the next waits `ms / share`, so it takes at most `share` of the time whatever the histograms' size. Small
// histograms still run at their configured interval (their cost is far below it).

export class CostSpacing {
  private next = 0;
  readonly share: number;
  constructor(share: number) {
    this.share = share;
  }

  /** Whether the next run may start. */
  due(now = Date.now()): boolean {
    return now >= this.next;
  }

  /** Records a run that cost `costMs` of the held-up work, ending at `now`. */
  ran(costMs: number, now = Date.now()): void {
    this.next = now + costMs / this.share;
  }
}
