/**
 * Pairs agents of similar rating for the matchmaker. Pure: candidates come in (already filtered to
 * agents that may play now), pairs come out, deterministically for the same input.
 */
export interface MatchCandidate {
  agentId: string;
  ownerId: string;
  rating: number;
}

export interface PairingOptions {
  /** Two agents further apart than this are not paired. */
  maxRatingGap: number;
}

/**
 * Sorted by rating, each agent is paired with the nearest-rated unpaired agent below it that has
 * another owner (an owner's agents never farm rating off each other), within `maxRatingGap`.
 */
export function pairCandidates(candidates: readonly MatchCandidate[], options: PairingOptions): [MatchCandidate, MatchCandidate][] {
  const sorted = [...candidates].sort((a, b) => b.rating - a.rating || a.agentId.localeCompare(b.agentId));
  const paired = new Set<string>();
  const pairs: [MatchCandidate, MatchCandidate][] = [];
  for (let i = 0; i < sorted.length; i += 1) {
    const first = sorted[i]!;
    if (paired.has(first.agentId)) continue;
    for (let j = i + 1; j < sorted.length; j += 1) {
      const second = sorted[j]!;
      if (first.rating - second.rating > options.maxRatingGap) break;
      if (paired.has(second.agentId) || second.ownerId === first.ownerId) continue;
      paired.add(first.agentId).add(second.agentId);
      pairs.push([first, second]);
      break;
    }
  }
  return pairs;
}
