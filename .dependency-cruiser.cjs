/**
 * The layers of src/ (docs/ARCHITECTURE.md, "Layers"), checked by `npm run lint:deps`, which
 * scripts/test.sh runs first. From the bottom up:
 *
 *   domain          pure rules: imports only domain (and npm libraries such as zod)
 *   contracts       wire formats shared by a route and its client (zod): domain only
 *   ml              learning algorithms: domain and infrastructure only
 *   infrastructure  adapters and ports: domain only
 *   commands        load, decide, append: domain, infrastructure ports, ml
 *   projections     read models: domain, infrastructure
 *   workers         bus consumers: commands, projections, domain, infrastructure, ml, contracts
 *   api             HTTP and WebSocket: commands, projections, domain, infrastructure, contracts
 *   contexts        one inversify module per bounded context: wires api, projections, workers
 *   runtime         process roles: everything below
 *   cli.ts, arena-command-line.ts   the binary: runtime (and the runner's command line)
 *
 * Nothing imports upwards, and there are no import cycles.
 * Every violation fails the check (there is no baseline of known ones).
 */
const layer = (name) => `^src/${name}/`;
const notIn = (...names) => `^src/(${names.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the shared part into a file both can import.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain holds the rules and imports only src/domain (npm libraries such as zod are fine).',
      from: { path: layer('domain') },
      to: { path: '^src/', pathNot: layer('domain') },
    },
    {
      name: 'domain-no-io',
      severity: 'error',
      comment: 'src/domain does no I/O: no file system, network, processes or databases.',
      from: { path: layer('domain') },
      to: {
        dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        path: '^(fs|node:fs|fs/promises|node:fs/promises|net|node:net|http|node:http|https|node:https|child_process|node:child_process|knex|pg|kafkajs|@clickhouse/client|@eventstore/db-client|express|ws|pino|chdb)$',
      },
    },
    {
      name: 'contracts-are-wire-formats',
      severity: 'error',
      comment: 'src/contracts holds the wire schemas a route and its client (e.g. the trainer runner) share: it imports only the domain.',
      from: { path: layer('contracts') },
      to: { path: '^src/', pathNot: '^src/(domain|contracts)/' },
    },
    {
      name: 'only-edges-speak-the-wire',
      severity: 'error',
      comment: 'Wire formats belong to the routes and the HTTP clients (workers); rules, adapters, commands and read models do not see them.',
      from: { path: notIn('ml', 'infrastructure', 'commands', 'projections') },
      to: { path: layer('contracts') },
    },
    {
      name: 'ml-below-workers',
      severity: 'error',
      comment: 'src/ml is a library of learning algorithms: it knows the domain and infrastructure, nothing that runs it.',
      from: { path: layer('ml') },
      to: { path: notIn('commands', 'projections', 'workers', 'api', 'contexts', 'runtime') },
    },
    {
      name: 'infrastructure-is-adapters',
      severity: 'error',
      comment: 'Adapters implement ports for the layers above; they import only the domain (e.g. its errors) and each other.',
      from: { path: layer('infrastructure') },
      to: { path: notIn('ml', 'commands', 'projections', 'workers', 'api', 'contexts', 'runtime') },
    },
    {
      name: 'commands-use-domain-and-ports',
      severity: 'error',
      comment: 'A command handler loads, decides, appends; a read model it needs comes in as a port (e.g. AgentMatchLoadReader).',
      from: { path: layer('commands') },
      to: { path: notIn('projections', 'workers', 'api', 'contexts', 'runtime') },
    },
    {
      name: 'projections-below-commands-and-api',
      severity: 'error',
      comment: 'A projection reads events and writes its read model; it issues no commands and knows no route or worker.',
      from: { path: layer('projections') },
      to: { path: notIn('ml', 'commands', 'workers', 'api', 'contexts', 'runtime') },
    },
    {
      name: 'workers-not-api-or-runtime',
      severity: 'error',
      comment: 'Workers report back through commands; they are started by the runtime, never import it, and know no route.',
      from: { path: layer('workers') },
      to: { path: notIn('api', 'contexts', 'runtime') },
    },
    {
      name: 'api-not-workers-or-runtime',
      severity: 'error',
      comment: 'Routes issue commands and read read models; workers, context wiring and process roles are above them.',
      from: { path: layer('api') },
      to: { path: notIn('ml', 'workers', 'contexts', 'runtime') },
    },
    {
      name: 'contexts-below-runtime',
      severity: 'error',
      comment: 'Context modules contribute parts; the runtime resolves them.',
      from: { path: layer('contexts') },
      to: { path: notIn('runtime') },
    },
    {
      name: 'nothing-imports-the-binary',
      severity: 'error',
      comment: 'src/cli.ts and src/arena-command-line.ts are entry points (cli.ts loads the command line after taking signals).',
      from: { path: '^src/', pathNot: '^src/cli\\.ts$' },
      to: { path: '^src/(cli|arena-command-line)\\.ts$' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    exclude: { path: '\\.d\\.ts$' },
  },
};
