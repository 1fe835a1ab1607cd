#!/usr/bin/env node
/**
 * The `arena` binary. It takes SIGINT/SIGTERM before anything else loads: loading the roles' modules
 * takes a while, and a signal met by Node's default handler then would end the process abruptly
 * (an embedded PostgreSQL left behind). The shutdown runs once start-up has finished.
 */
import { firstShutdownSignal } from './infrastructure/process/shutdown-signal';

const shutdownSignal = firstShutdownSignal();
// Loaded only now, on purpose: after the signal handlers above are in place.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runArena } = require('./arena-command-line') as typeof import('./arena-command-line');
runArena(process.argv.slice(2), shutdownSignal);
