import { z } from 'zod';
import type { JsonObject, JsonValue } from '../../shared/action';
import './openapi-registry';

// Bodies reach us through JSON.parse, so every value is already JSON; a recursive z.json() would only
// cost time (and cannot be rendered to OpenAPI). These keep the static types honest.
export const jsonObjectSchema = z
  .record(z.string(), z.unknown())
  .transform((value) => value as JsonObject)
  .openapi({ type: 'object', additionalProperties: true, description: 'Any JSON object' });

export const jsonValueSchema = z
  .unknown()
  .transform((value) => value as JsonValue)
  .openapi({ description: 'Any JSON value' });
