/**
 * The row fold's pure part (src/projections/postgres/row-fold.ts): what it refuses to fold, and
 * the literals it writes. That the written rows equal the handlers' is checked against PostgreSQL
 * in test/integration/projections/fold-pages.test.ts.
 */
import { escapeLiteral } from 'pg';
import { add, ifNull, jsonLiteral, least, NotFoldableError, RowFold } from '../../../src/projections/postgres/row-fold';

const table = { table: 'sessions', key: 'id', defaults: { laps: 0 } };

describe('RowFold', () => {
  it('refuses changes that do not compose into one per column (the page then goes event by event)', () => {
    const rows = new RowFold([table]);
    rows.update('sessions', 'a', { laps: add(1) });
    expect(() => rows.update('sessions', 'a', { laps: least(3) })).toThrow(NotFoldableError);
  });

  it('refuses a combining change on a created row whose column default it was not told', () => {
    const rows = new RowFold([table]);
    rows.insertIgnore('sessions', { id: 'a' });
    expect(() => rows.update('sessions', 'a', { best: least(90) })).toThrow(NotFoldableError);
    rows.update('sessions', 'a', { laps: add(2) });
  });

  it('writes updates for rows that existed before inserts of rows the page created, composed per column', () => {
    const rows = new RowFold([table]);
    rows.update('sessions', 'old', { laps: add(1), start: ifNull('2026-01-01T00:00:00.000Z') });
    rows.update('sessions', 'old', { laps: add(2), start: ifNull('2026-02-01T00:00:00.000Z') });
    rows.insertIgnore('sessions', { id: 'new', name: 'n' });
    rows.update('sessions', 'new', { laps: add(5) });
    const statements = rows.statements();
    expect(statements.map((statement) => statement.split(' ')[0])).toEqual(['UPDATE', 'UPDATE', 'INSERT']);
    expect(statements[0]).toContain('"laps" = t."laps" + v."laps", "start" = coalesce(t."start", v."start")');
    expect(statements[0]).toContain('"id":"old","laps":3,"start":"2026-01-01T00:00:00.000Z"');
    expect(statements[1]).toContain('"id":"new","laps":5');
    expect(statements[2]).toContain('{"id":"new","name":"n","laps":5}');
  });

  it('keeps a jsonb value that looks like a change a value', () => {
    const rows = new RowFold([table]);
    rows.insertIgnore('sessions', { id: 'a', options: { op: 'add', value: 1 } });
    expect(rows.statements()[0]).toContain('"options":{"op":"add","value":1}');
  });

  it('writes no `?` (knex would take it for a parameter) and no number JSON cannot carry', () => {
    const literal = jsonLiteral([{ text: `what? \\? '' ?? done` }]);
    expect(literal).not.toContain('?');
    expect(JSON.parse(literal.replace(/^ ?E?'|'$/g, '').replace(/''/g, "'").replace(/\\\\/g, '\\'))).toEqual([{ text: `what? \\? '' ?? done` }]);
    expect(() => jsonLiteral([{ value: Number.NaN }])).toThrow(NotFoldableError);
  });

  it("writes the literal pg's escapeLiteral writes for the JSON text, for text of quotes, backslashes, `?` and beyond", () => {
    const pieces = ["'", '\\', '?', '"', 'a', 'é', '🏁', '\n', '$', ' ', '{', ','];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: 1 + (i % 9) }, () => pieces[next() % pieces.length]).join('');
      const value = [{ text, list: [text, 1.5, null, true], nested: { text } }];
      expect(jsonLiteral(value)).toBe(escapeLiteral(JSON.stringify(value).replace(/\?/g, '\\u003f')));
    }
    expect(() => jsonLiteral({ deep: [{ value: Number.POSITIVE_INFINITY }] })).toThrow(NotFoldableError);
  });
});
