import { z } from 'zod';

/**
 * Integer query and path parameters: every one has both bounds, so no value a client can type
 * reaches PostgreSQL outside its `integer` column type (2^31 - 1) and fails there as a 500.
 */
export const MAX_INT32 = 2_147_483_647;

export const boundedInteger = (min: number, max: number = MAX_INT32) => z.coerce.number().int().min(min).max(max);
