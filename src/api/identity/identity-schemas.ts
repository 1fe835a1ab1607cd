import { z } from 'zod';
import { emailSchema, fullNameSchema, passwordSchema, usernameSchema } from '../../domain/identity/credentials';

export const RegisterBody = z.object({
  username: usernameSchema,
  email: emailSchema,
  password: passwordSchema,
  full_name: fullNameSchema.optional(),
});

export const LoginBody = z
  .object({
    email: z.string().trim().min(1).optional(),
    username: z.string().trim().min(1).optional(),
    password: z.string().min(1, 'Password is required'),
  })
  .refine((body) => body.email !== undefined || body.username !== undefined, {
    message: 'email or username is required',
    path: ['email'],
  });

export const RefreshBody = z.object({ refresh_token: z.string().min(1) });

export const UpdateMeBody = z
  .object({ email: emailSchema.optional(), full_name: fullNameSchema.nullable().optional() })
  .refine((body) => body.email !== undefined || body.full_name !== undefined, {
    message: 'nothing to update: give email or full_name',
    path: ['email'],
  });

const PublicUser = z.object({
  id: z.string().uuid(),
  username: z.string(),
  email: z.string(),
  full_name: z.string().nullable().optional(),
  created_at: z.string().optional(),
});

/** Both contracts at once: LapXcel's token fields and RL-Arena's `token` + `user`. */
export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int(),
  refresh_token: z.string(),
  token: z.string().describe('RL-Arena token: an access token valid 24 h (ARENA_TOKEN_TTL_SEC); access_token lasts expires_in seconds'),
  user: PublicUser,
});

export const MeResponse = z.object({
  id: z.string().uuid(),
  email: z.string(),
  username: z.string(),
  full_name: z.string().nullable(),
  is_active: z.boolean(),
  is_admin: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  last_login: z.string().nullable(),
});

export const UsersMeResponse = MeResponse.extend({
  stats: z.object({ total_agents: z.number().int(), total_matches: z.number().int(), total_wins: z.number().int() }),
});

export const UpdateMeResponse = z.object({
  id: z.string().uuid(),
  username: z.string(),
  email: z.string(),
  full_name: z.string().nullable(),
  updated_at: z.string(),
});
