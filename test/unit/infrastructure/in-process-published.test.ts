import { PublishedMessages } from '../../../src/infrastructure/bus/in-process-published';
import type { DeliveredMessage } from '../../../src/infrastructure/bus/message-bus';

const messagesAt = (first: number, count: number, value = 'v'): DeliveredMessage[] =>
  Array.from({ length: count }, (_, i) => ({ topic: 't', partition: 0, offset: String(first + i), key: 'k', value: `${value}${first + i}`, headers: {} }));
const offsets = (messages: DeliveredMessage[] | undefined) => messages?.map((message) => message.offset);

describe("the copy of this process's published messages a consumer keeps", () => {
  it('gives the run from the position, when the run holds it; otherwise nothing (read the table)', () => {
    const held = new PublishedMessages();
    held.add('0:t', messagesAt(5, 3));
    held.add('0:t', messagesAt(8, 2)); // continues the run
    expect(offsets(held.from('0:t', 4n, 100, 1e9))).toBeUndefined(); // offset 4 is not held
    expect(offsets(held.from('0:t', 6n, 100, 1e9))).toEqual(['6', '7', '8', '9']);
    expect(offsets(held.from('0:t', 6n, 2, 1e9))).toEqual(['6', '7']);
    expect(offsets(held.from('0:t', 10n, 100, 1e9))).toBeUndefined(); // past the run: let go
    expect(offsets(held.from('0:t', 6n, 100, 1e9))).toBeUndefined();
  });

  it('a run with a gap starts over; byte and message caps leave the rest to the table', () => {
    const held = new PublishedMessages();
    held.add('0:t', messagesAt(0, 2));
    held.add('0:t', messagesAt(5, 2)); // offsets 2-4 came from elsewhere
    expect(offsets(held.from('0:t', 0n, 100, 1e9))).toBeUndefined();
    expect(offsets(held.from('0:t', 5n, 100, 1e9))).toEqual(['5', '6']);
    // Stops once the values before a message reach the byte cap (as the table's read does).
    expect(offsets(held.from('0:t', 5n, 100, 1))).toEqual(['5']);
    const full = new PublishedMessages();
    full.add('0:t', messagesAt(0, 1001));
    expect(full.from('0:t', 0n, 100, 1e9)).toBeUndefined();
  });

  it('lets go of what was handled', () => {
    const held = new PublishedMessages();
    held.add('0:t', messagesAt(0, 4));
    held.release('0:t', 2n);
    expect(offsets(held.from('0:t', 2n, 100, 1e9))).toEqual(['2', '3']);
    held.release('0:t', 4n);
    expect(held.from('0:t', 3n, 100, 1e9)).toBeUndefined();
  });
});
