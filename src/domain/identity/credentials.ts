import { z } from 'zod';

/** Rules for what a user may choose as credentials; shared by the HTTP schemas and the domain. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;

export const usernameSchema = z
  .string()
  .trim()
  .regex(USERNAME_PATTERN, 'Username must be 3-32 characters: letters, digits, _ . -');

export const emailSchema = z.string().trim().toLowerCase().max(254).email('Invalid email address');

/** At least 8 characters with a letter and a digit: rejects "password" and "12345678". */
export const passwordSchema = z
  .string()
  .min(8, 'Password must be at least 8 characters')
  .max(128, 'Password must be at most 128 characters')
  .refine((p) => /[A-Za-z]/.test(p) && /\d/.test(p), 'Password must contain a letter and a digit');

export const fullNameSchema = z.string().trim().min(1).max(100);
