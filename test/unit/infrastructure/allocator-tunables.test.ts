import { ALLOCATOR_TUNABLES, allocatorTunablesSet, withAllocatorTunables } from '../../../src/infrastructure/process/allocator-tunables';

describe('allocator tunables', () => {
  it('adds the mmap threshold to an environment without GLIBC_TUNABLES', () => {
    const env = withAllocatorTunables({ PATH: '/bin' });
    expect(env.GLIBC_TUNABLES).toBe(ALLOCATOR_TUNABLES);
    expect(env.PATH).toBe('/bin');
    expect(allocatorTunablesSet(env)).toBe(true);
    expect(allocatorTunablesSet({})).toBe(false);
  });

  it("keeps the operator's other tunables and their own threshold", () => {
    expect(withAllocatorTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe(`glibc.malloc.arena_max=2:${ALLOCATOR_TUNABLES}`);
    const own = { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' };
    expect(withAllocatorTunables(own)).toBe(own);
    // A longer name that merely starts the same is another tunable.
    expect(allocatorTunablesSet({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold_x=1' })).toBe(false);
  });
});
