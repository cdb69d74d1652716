import * as z from 'zod';
import { envName, type TableName } from '../../lib/manifest.ts';

/** Reads and validates a function's environment once, at cold start; fails fast with every gap. */
export function readEnv<T extends z.ZodRawShape>(shape: T): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(process.env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid function environment: ${problems}`);
  }
  return result.data;
}

/** The physical name of a manifest table the function is granted (`TABLE_<NAME>`); throws when unset. */
export const tableName = (name: TableName) =>
  readEnv({ [envName.table(name)]: z.string().min(1) })[envName.table(name)] as string;

/**
 * A value built on first use and kept for the container's life (an adapter, a client): a handler
 * is granted only its own resources, so it builds only what it uses. Mark calls `@__PURE__` so a
 * bundle drops the ones its handler never uses.
 */
export const once = <T>(build: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= build());
};
