/** CPU and heap profiles of this process through its own inspector session, for benchmarks that profile one phase. */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

export interface RunningProfile {
  /** Stops the profile and writes it to its file (nothing when no file was given). */
  stop(): Promise<void>;
}

/** An inspector session on this process and a promise-returning `post` to it. */
function connectedInspector(): { session: Session; post: (method: string, params?: object) => Promise<unknown> } {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  return { session, post };
}

/** A CPU profile (200 µs samples) written to `file` on stop; nothing when `file` is unset. */
export async function startCpuProfile(file: string | undefined): Promise<RunningProfile> {
  if (!file) return { stop: async () => {} };
  const { session, post } = connectedInspector();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** A sampling heap profile (allocations by stack, including objects collected since) written to `file` on stop; nothing when `file` is unset. */
export async function startHeapProfile(file: string | undefined): Promise<RunningProfile> {
  if (!file) return { stop: async () => {} };
  const { session, post } = connectedInspector();
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 32 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    stop: async () => {
      const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
