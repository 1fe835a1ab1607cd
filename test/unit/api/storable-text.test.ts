import { findUnstorableText } from '../../../src/api/shared/storable-text';

/** The edge's text rule over whole bodies: the walk skips numbers and checks each repeated key once. */
describe('findUnstorableText', () => {
  const points = (count: number) => Array.from({ length: count }, (_, i) => ({ timestamp: 1_700_000_000_000 + i, speed_kmh: i % 300, gear: 3, is_in_pit: false, note: null }));

  it('finds a bad string among many numbers, by its path', () => {
    const body = { data_points: points(2_000), batch_id: 'b1' };
    expect(findUnstorableText(body)).toBeUndefined();
    (body.data_points[1_234] as Record<string, unknown>).note = 'a\u0000b';
    expect(findUnstorableText(body)).toEqual({ path: 'data_points.1234.note', message: expect.any(String) });
  });

  it('finds a bad key in a later object whose other keys were seen before', () => {
    const body = { data_points: points(50) as Array<Record<string, unknown>> };
    body.data_points[40]!['\ud800x'] = 1;
    expect(findUnstorableText(body)?.path).toBe('data_points.40."\\ud800x"');
  });

  it('checks strings inside arrays and at the top', () => {
    expect(findUnstorableText(['ok', 1, ['\udc00']])?.path).toBe('2.0');
    expect(findUnstorableText('\u0000')?.path).toBe('');
    expect(findUnstorableText(42)).toBeUndefined();
  });
});
