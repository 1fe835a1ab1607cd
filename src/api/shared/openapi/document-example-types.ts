/** Shapes of the API documents' examples (document-examples.ts). */

export type ContractName = 'lapxcel' | 'rl-arena';

export interface DocumentExample {
  contract: ContractName;
  value: unknown;
}

export interface OperationExamples {
  request?: DocumentExample[];
  responses?: Record<number, DocumentExample[]>;
}

export const CONTRACT_TITLES: Record<ContractName, string> = {
  lapxcel: 'LapXcel API document',
  'rl-arena': 'RL-Arena API document',
};

export const lapxcelExample = (value: unknown): DocumentExample => ({ contract: 'lapxcel', value });
export const rlArenaExample = (value: unknown): DocumentExample => ({ contract: 'rl-arena', value });
