import { ConfigError, loadConfig } from '../../../src/infrastructure/config/config';

/** ESDB_URL accepts every connection-string form the EventStoreDB client accepts (issue 14, defect 4). */
describe('ESDB_URL in the configuration', () => {
  const accepted = [
    'esdb://127.0.0.1:2113?tls=false',
    'esdb://localhost',
    'esdb://a:2113,b:2113,c:2113',
    'esdb://a:2113,b:2113,c:2113?tls=true&nodePreference=leader&tlsVerifyCert=false',
    'esdb+discover://cluster.example.com:2113',
    'esdb+discover://admin:changeit@cluster.example.com:2113?tls=true&keepAliveTimeout=10000&defaultDeadline=5000',
    'esdb://admin:changeit@db-1:2113?throwOnAppendFailure=false',
  ];

  it.each(accepted)('accepts %s', (url) => {
    expect(loadConfig({ ESDB_URL: url }).ESDB_URL).toBe(url);
  });

  const rejected = ['http://localhost:2113', 'esdb://a:notaport', 'esdb://:2113', 'postgres://x'];

  it.each(rejected)('rejects %s with a message naming the variable', (url) => {
    let error: unknown;
    try {
      loadConfig({ ESDB_URL: url });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([expect.objectContaining({ variable: 'ESDB_URL', message: expect.stringMatching(/EventStoreDB connection string/) })]);
  });

  it('never repeats the password of a bad connection string', () => {
    expect(() => loadConfig({ ESDB_URL: 'esdb://admin:s3cret-Pw@a:bad' })).toThrow(ConfigError);
    try {
      loadConfig({ ESDB_URL: 'esdb://admin:s3cret-Pw@a:bad' });
    } catch (error) {
      expect(String(error)).not.toContain('s3cret');
    }
  });
});
