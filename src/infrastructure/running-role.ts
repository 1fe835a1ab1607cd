/** A part of a process that runs until stopped: the relay, a projection runner, a worker, the API server. */
export interface RunningRole {
  name: string;
  stop(): Promise<void>;
}
