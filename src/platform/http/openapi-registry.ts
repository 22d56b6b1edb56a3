import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

/** The OpenAPI document is generated from the same zod schemas the routes parse with. */
export function createRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A Holdpoint API key (`npm run holdpoint -- keys create …`).',
  });
  return registry;
}

export function generateDocument(registry: OpenAPIRegistry, serverUrl: string) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Holdpoint API',
      version: '1',
      description: 'Approval gate for AI agent actions: submit an action, get a structured decision, run exactly what was approved.',
    },
    servers: [{ url: serverUrl }],
  });
}
