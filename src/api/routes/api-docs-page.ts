import type { generateDocument } from '../../platform/http/openapi-registry';

type OpenAPIObject = ReturnType<typeof generateDocument>;

interface OperationLike {
  summary?: string;
  security?: unknown[];
  responses?: Record<string, { description?: string }>;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A self-contained page (no CDN: operators may run offline) listing every operation. */
export function renderApiDocs(document: OpenAPIObject): string {
  const operations = Object.entries(document.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods ?? {})
      .filter(([, op]) => typeof op === 'object' && op !== null && 'responses' in op)
      .map(([method, op]) => ({ path, method, op: op as OperationLike })),
  );
  const rows = operations
    .map(
      ({ path, method, op }) => `<section>
  <h2><code class="m-${escape(method)}">${escape(method.toUpperCase())}</code> <code>${escape(path)}</code></h2>
  <p>${escape(op.summary ?? '')}${op.security ? ' <em>(API key)</em>' : ''}</p>
  <ul>${Object.entries(op.responses ?? {})
    .map(([status, response]) => `<li><strong>${escape(status)}</strong> ${escape(response.description ?? '')}</li>`)
    .join('')}</ul>
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(document.info.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
h2{font-size:1.05rem;margin:1.5rem 0 .25rem}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
.m-get{color:#05520b}.m-post{color:#0b3d91}section{border-top:1px solid #ddd}</style></head>
<body><h1>${escape(document.info.title)} <small>v${escape(document.info.version)}</small></h1>
<p>${escape(document.info.description ?? '')} Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${rows}
</body></html>`;
}
