import { runMatch } from '../src/workers/matches/match-runner';
async function main() {
  const steps = Number(process.argv[2] ?? 20000);
  const t0 = performance.now();
  const r = await runMatch({ environmentId: 'pong', environmentOptions: { targetScore: 1000, maxSteps: steps }, seed: 1, agents: [{ id: 'a', dir: 'runtime/python/examples/tracking_agent' }, { id: 'b', dir: 'runtime/python/examples/random_agent' }] });
  console.log('steps', r.totalSteps, 'wall us/step', ((performance.now() - t0) * 1000 / r.totalSteps).toFixed(1));
  process.exit(0);
}
main();
