import type { z } from 'zod';

/** One readable line from a zod error: `path: message; path: message`. */
export function describeZodError(err: z.ZodError, prefix = ''): string {
  return err.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}
