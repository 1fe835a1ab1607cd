import { Writable } from 'node:stream';
import pino from 'pino';
import { BUSY_UTILIZATION, IDLE_UTILIZATION, nextIdleHeapState, startIdleHeapRelease } from '../../../src/infrastructure/process/idle-heap-release';

function captured() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('idle heap release', () => {
  it('collects once in the first idle window after work, and not again until more work', () => {
    let state = { workSinceCollect: false };
    const collects: boolean[] = [];
    for (const utilization of [0, 0.5, 0.05, 0, 0, 0.3, 0.01, IDLE_UTILIZATION, BUSY_UTILIZATION, 0]) {
      const next = nextIdleHeapState(state, utilization);
      state = next.state;
      collects.push(next.collect);
    }
    // Idle at start: nothing to give back. Work, a quiet-but-not-idle window, then idle: one collection.
    expect(collects).toEqual([false, false, false, true, false, false, true, false, false, true]);
  });

  it('runs the collection on a busy-then-idle event loop, and stops with its role', async () => {
    let collected = 0;
    const role = startIdleHeapRelease(captured().logger, () => (collected += 1), 250);
    const busyUntil = performance.now() + 400;
    while (performance.now() < busyUntil) {
      // the event loop is busy: nothing else runs
    }
    // The first idle window after the work collects (waited for, not timed: a loaded machine may stretch windows).
    const deadline = performance.now() + 10_000;
    while (collected === 0 && performance.now() < deadline) await sleep(50);
    expect(collected).toBe(1);
    await sleep(1000); // idle windows without new work collect nothing more
    expect(collected).toBe(1);
    await role.stop();
    const busyAgain = performance.now() + 400;
    while (performance.now() < busyAgain) {
      // work after stop
    }
    await sleep(1000);
    expect(collected).toBe(1);
  });

  it('says once that it cannot work without --expose-gc, and does nothing', async () => {
    const { logger, lines } = captured();
    const role = startIdleHeapRelease(logger, null, 50);
    await role.stop();
    expect(lines.join('')).toContain('--expose-gc');
  });
});
