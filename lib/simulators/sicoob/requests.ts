import * as z from 'zod';
import { isDay } from './dates.ts';
import { invalid } from './errors.ts';

/** A `yyyy-MM-dd` calendar day. */
export const day = z.string().refine(isDay);

/** A body's JSON object; 400 when it is not JSON or not an object. */
export function jsonObject(raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalid('Corpo da requisição inválido: JSON esperado.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid('Corpo da requisição inválido: objeto JSON esperado.');
  return value as Record<string, unknown>;
}

/**
 * `body` checked against `schema`; a mismatch is a 400 naming the first field, "obrigatório" when
 * absent. Optional fields sent as null or "" are refused like any invalid value: Sicoob wants
 * them omitted (spec §0).
 */
export function parseFields<Schema extends z.ZodType>(schema: Schema, body: Record<string, unknown>): z.infer<Schema> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const field = String(result.error.issues[0]?.path[0] ?? 'corpo');
  throw invalid(body[field] === undefined ? `Campo ${field} obrigatório.` : `Campo ${field} inválido.`);
}

/** A required integer query parameter (1 or more). */
export function integerParam(params: URLSearchParams, name: string): number {
  const text = params.get(name);
  if (text === null || text === '') throw invalid(`Parâmetro ${name} obrigatório.`);
  const value = Number(text);
  if (!/^\d{1,15}$/.test(text) || value < 1) throw invalid(`Parâmetro ${name} inválido.`);
  return value;
}

/** An optional integer query parameter. */
export function optionalIntegerParam(params: URLSearchParams, name: string): number | undefined {
  return params.has(name) ? integerParam(params, name) : undefined;
}
