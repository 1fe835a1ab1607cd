import jwt from 'jsonwebtoken';
import { VerifiedTokens } from '../../../src/api/shared/auth/verified-tokens';

describe('VerifiedTokens', () => {
  const alice = { id: 'user-alice', username: 'alice', sessionId: 'session-1' };
  const tokenExpiringAt = (expSec: number) => jwt.sign({ sub: alice.id, exp: expSec }, 'k'.repeat(32));

  it('gives back the user of a header verified before, until the second of its exp (the rule of jsonwebtoken)', () => {
    let nowMs = 1_000_000_000;
    const verified = new VerifiedTokens({ now: () => nowMs });
    const token = tokenExpiringAt(1_000_010);
    verified.remember(`Bearer ${token}`, token, alice);
    expect(verified.userOf(`Bearer ${token}`)).toEqual(alice);
    nowMs = 1_000_009_999;
    expect(verified.userOf(`Bearer ${token}`)).toEqual(alice);
    nowMs = 1_000_010_000;
    expect(verified.userOf(`Bearer ${token}`)).toBeUndefined();
    // Forgotten: the clock going back (NTP) does not bring it back without a new verification.
    nowMs = 1_000_000_000;
    expect(verified.userOf(`Bearer ${token}`)).toBeUndefined();
  });

  it('knows only the exact header it was given, and keeps no token without exp', () => {
    const verified = new VerifiedTokens({ now: () => 0 });
    const token = tokenExpiringAt(100);
    verified.remember(`Bearer ${token}`, token, alice);
    expect(verified.userOf(`bearer ${token}`)).toBeUndefined();
    expect(verified.userOf(`Bearer ${token}x`)).toBeUndefined();
    const noExp = jwt.sign({ sub: alice.id }, 'k'.repeat(32));
    verified.remember(`Bearer ${noExp}`, noExp, alice);
    expect(verified.userOf(`Bearer ${noExp}`)).toBeUndefined();
  });

  it('keeps at most maxEntries headers, forgetting the oldest first', () => {
    const verified = new VerifiedTokens({ now: () => 0, maxEntries: 2 });
    const tokens = [tokenExpiringAt(100), tokenExpiringAt(101), tokenExpiringAt(102)];
    for (const token of tokens) verified.remember(token, token, alice);
    expect(tokens.map((token) => verified.userOf(token) !== undefined)).toEqual([false, true, true]);
  });

  it('hands out copies: a caller changing its user does not change the next answer', () => {
    const verified = new VerifiedTokens({ now: () => 0 });
    const token = tokenExpiringAt(100);
    verified.remember(token, token, { ...alice });
    const first = verified.userOf(token)!;
    first.id = 'someone-else';
    expect(verified.userOf(token)?.id).toBe(alice.id);
  });
});
