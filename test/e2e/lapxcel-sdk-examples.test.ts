import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { describeWithEngine } from '../support/engines';
import { freePort } from '../support/free-port';
import { http } from '../support/test-system';

jest.setTimeout(240_000);

/**
 * The LapXcel document's "SDK Examples" (Python with `requests`, JavaScript with `fetch`), run as
 * a user who copies them would: the code blocks verbatim (test/fixtures/lapxcel-examples, checked
 * against the document when it is at hand), with only the host and the password replaced, against
 * a fresh `arena start` of the built app. Each script then prints what it got, and the test checks
 * it is what the document shows.
 */

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'test', 'fixtures', 'lapxcel-examples');
const DOCUMENT_HOST = 'https://api.lapxcel.app';
const PASSWORD = 'SecurePass123';

/** The document, where a checkout has it next to the repository (`shared/specs`). */
const documentPath = [process.env.LAPXCEL_SPEC, join(ROOT, '..', 'shared', 'specs', 'lapxcel-api.md'), join(ROOT, '..', '..', 'shared', 'specs', 'lapxcel-api.md')].find(
  (candidate): candidate is string => candidate !== undefined && existsSync(candidate),
);

function pythonWithRequests(): string | null {
  for (const candidate of [process.env.EXAMPLES_PYTHON, join(ROOT, '.cache', 'examples-venv', 'bin', 'python'), 'python3']) {
    if (candidate === undefined || candidate === '') continue;
    if (spawnSync(candidate, ['-c', 'import requests'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

const python = pythonWithRequests();

/** The example with only the host and the credentials replaced. */
function copied(file: string, baseUrl: string): string {
  const source = readFileSync(join(EXAMPLES, file), 'utf8');
  expect(source.split(DOCUMENT_HOST).length).toBe(3);
  // Python quotes the key ("password": "password"), JavaScript does not (password: 'password').
  const withPassword = source.replace(/(["']?)password\1: (["'])password\2/, `$1password$1: $2${PASSWORD}$2`);
  expect(withPassword).not.toBe(source);
  return withPassword.split(DOCUMENT_HOST).join(baseUrl);
}

function run(command: string, args: string[], cwd: string): Record<string, unknown> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe('the LapXcel document\'s SDK examples', () => {
  let running: CliProcess | undefined;
  let baseUrl: string;
  let workDir: string;
  let sessionId: string;

  beforeAll(async () => {
    ensureBuilt();
    workDir = mkdtempSync(join(tmpdir(), 'arena-sdk-examples-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    running = runCli(['start'], {
      // Its own directory, as cli-start.test.ts does: embedded PostgreSQL must reach it.
      DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-sdk-examples-data-')),
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    });
    await waitForReady(baseUrl, running);
    // The account the examples log in to, and a session to list: the document's own request bodies.
    const registered = await http(baseUrl, 'POST', '/api/v1/auth/register', {
      body: { email: 'user@example.com', username: 'racing_pro', password: PASSWORD, full_name: 'John Doe' },
    });
    expect(registered.status).toBe(201);
    const token = String(registered.body.access_token);
    const created = await http(baseUrl, 'POST', '/api/v1/telemetry/sessions', {
      token,
      body: { session_name: 'Monza Practice', track_name: 'Monza', car_model: 'Ferrari 488 GT3', weather_conditions: 'Clear', track_temperature: 25.5, air_temperature: 20.0 },
    });
    expect(created.status).toBe(201);
    sessionId = String(created.body.id);
    const uploaded = await http(baseUrl, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, {
      token,
      body: { data_points: [{ timestamp: '2024-01-15T14:30:05Z', speed_kmh: 245.5, throttle_input: 1.0, brake_input: 0.0, steering_input: 0.15, gear: 6, rpm: 7500 }] },
    });
    expect(uploaded.status).toBe(201);
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
  });

  const expectDocumentedSessions = (result: Record<string, unknown>) => {
    expect(result.login_status).toBe(200);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      sessions: [
        {
          id: sessionId,
          session_name: 'Monza Practice',
          track_name: 'Monza',
          car_model: 'Ferrari 488 GT3',
          total_laps: 0,
          best_lap_time: null,
          session_start: '2024-01-15T14:30:05.000Z',
          is_complete: false,
        },
      ],
      total: 1,
      limit: 50,
      offset: 0,
    });
  };

  it('are the document\'s code blocks, verbatim', () => {
    if (documentPath === undefined) {
      process.stdout.write('SKIPPED: lapxcel-api.md is not next to this checkout (set LAPXCEL_SPEC): the copies are not compared\n');
      return;
    }
    const document = readFileSync(documentPath, 'utf8');
    expect(document).toContain('```python\n' + readFileSync(join(EXAMPLES, 'sdk-example.py'), 'utf8') + '```');
    expect(document).toContain('```javascript\n' + readFileSync(join(EXAMPLES, 'sdk-example.mjs'), 'utf8') + '```');
  });

  describeWithEngine('python', python !== null, 'no python3 with `requests` (.ci/run installs it in .cache/examples-venv)')('Python (requests)', () => {
    it('logs in and lists the sessions as documented', () => {
      const script = join(workDir, 'example.py');
      writeFileSync(
        script,
        `${copied('sdk-example.py', baseUrl)}\nimport json\nprint(json.dumps({"login_status": response.status_code, "status": sessions.status_code, "body": sessions.json()}))\n`,
      );
      expectDocumentedSessions(run(python!, [script], workDir));
    });
  });

  it('JavaScript (fetch, Node 20): logs in and lists the sessions as documented', () => {
    const script = join(workDir, 'example.mjs');
    writeFileSync(
      script,
      `${copied('sdk-example.mjs', baseUrl)}\nconsole.log(JSON.stringify({ login_status: response.status, status: sessions.status, body: await sessions.json() }));\n`,
    );
    expectDocumentedSessions(run(process.execPath, [script], workDir));
  });
});
