import { KeyedSerialRunner } from '../../../src/infrastructure/process/keyed-serial-runner';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedSerialRunner', () => {
  it('runs work of one key one at a time, in order, and work of other keys beside it', async () => {
    const runner = new KeyedSerialRunner();
    const log: string[] = [];
    const step = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      await tick();
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([runner.run('a', step('a1')), runner.run('a', step('a2')), runner.run('b', step('b1'))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('a1 end')).toBeLessThan(log.indexOf('a2 start'));
    expect(log.indexOf('b1 start')).toBeLessThan(log.indexOf('a1 end'));
  });

  it('lets the next work of a key run after a failure, which only its caller sees', async () => {
    const runner = new KeyedSerialRunner();
    const failed = runner.run('a', async () => {
      throw new Error('boom');
    });
    const next = runner.run('a', async () => 'ran');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  it('forgets a key once its work settled', async () => {
    const runner = new KeyedSerialRunner();
    await Promise.all(Array.from({ length: 50 }, (_, i) => runner.run(`k${i}`, async () => i)));
    await tick();
    expect(runner.busyKeys).toBe(0);
  });
});
