import { EventEmitter } from 'node:events';
import pino from 'pino';
import { Writable } from 'node:stream';
import { containErrors } from '../../../src/infrastructure/errors/unexpected-errors';

function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('the unexpected-error policy', () => {
  it('without it, an error event on an emitter throws (what used to end the process)', () => {
    expect(() => new EventEmitter().emit('error', new Error('bad frame'))).toThrow('bad frame');
  });

  it('logs the error structured, closes that one resource once, and throws nothing', () => {
    const { logger, lines } = capturingLogger();
    const emitter = new EventEmitter();
    let closed = 0;
    containErrors(emitter, logger, { kind: 'websocket', id: 'c-1', close: () => (closed += 1) });
    expect(() => emitter.emit('error', new Error('Max payload size exceeded'))).not.toThrow();
    expect(() => emitter.emit('error', new Error('again'))).not.toThrow();
    expect(closed).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 40, unexpected_error: true, resource: 'websocket', resource_id: 'c-1', err: { message: 'Max payload size exceeded' } });
  });

  it('logs a close that fails too, and still throws nothing', () => {
    const { logger, lines } = capturingLogger();
    const emitter = new EventEmitter();
    containErrors(emitter, logger, { kind: 'child_process', close: () => { throw new Error('already gone'); } });
    expect(() => emitter.emit('error', new Error('spawn EACCES'))).not.toThrow();
    expect(lines.map((line) => (line.err as { message: string }).message)).toEqual(['spawn EACCES', 'already gone']);
  });
});
