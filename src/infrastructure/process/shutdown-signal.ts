/**
 * Resolves with the first SIGINT/SIGTERM. Listen from the very start of the process, so a signal that
 * arrives while roles are still starting is not met by the default handler (an abrupt exit): the
 * shutdown then runs as soon as start-up has finished.
 */
export function firstShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
