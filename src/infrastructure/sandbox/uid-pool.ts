/**
 * Dedicated host uids for sandboxed agents. RLIMIT_NPROC counts processes per uid, so giving
 * each running agent its own otherwise unused uid is what makes the process limit per agent
 * (and a fork bomb in one agent unable to starve another). The uids need no passwd entry.
 */
export class UidPool {
  private readonly inUse = new Set<number>();
  private cursor: number;

  constructor(
    readonly firstUid = 200_000,
    readonly size = 10_000,
  ) {
    // Start at a random place so two worker processes on one machine rarely pick the same uids.
    this.cursor = Math.floor(Math.random() * size);
  }

  acquire(): number {
    for (let tried = 0; tried < this.size; tried += 1) {
      const uid = this.firstUid + ((this.cursor + tried) % this.size);
      if (!this.inUse.has(uid)) {
        this.inUse.add(uid);
        this.cursor = (this.cursor + tried + 1) % this.size;
        return uid;
      }
    }
    throw new Error(`all ${this.size} sandbox uids are in use`);
  }

  release(uid: number): void {
    this.inUse.delete(uid);
  }

  contains(uid: number): boolean {
    return uid >= this.firstUid && uid < this.firstUid + this.size;
  }
}

export const defaultUidPool = new UidPool();
