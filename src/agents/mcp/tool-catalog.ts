import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** Action types allow letters, digits and `._:/-`; a dot would split `<server>` in two. */
export function serverSlug(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'upstream';
}

export function toolActionType(server: string, tool: string): string {
  return `mcp.${server}.${tool.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
}

export type ToolLookup = { actionType: string } | { refusal: string };

/**
 * Each listed name with its action type. Two names that map to one type ("send email",
 * "send_email") are refused both: approving one would approve the other, and a policy could not
 * tell them apart.
 */
export function gatedTools(server: string, names: readonly string[]): Map<string, ToolLookup> {
  const namesByType = new Map<string, string[]>();
  for (const name of new Set(names)) {
    const actionType = toolActionType(server, name);
    namesByType.set(actionType, [...(namesByType.get(actionType) ?? []), name]);
  }
  const tools = new Map<string, ToolLookup>();
  for (const [actionType, sharing] of namesByType) {
    for (const name of sharing) {
      tools.set(
        name,
        sharing.length === 1
          ? { actionType }
          : { refusal: `Tools ${sharing.map((n) => JSON.stringify(n)).join(' and ')} of the upstream server would both be gated as action type ${actionType}, so neither is forwarded; the upstream must rename one.` },
      );
    }
  }
  return tools;
}

const MAX_LIST_PAGES = 100;

/**
 * The tools the upstream lists, by exact name: the gateway submits and forwards nothing else
 * (an unlisted "SEND EMAIL" would become an action type no rule expects). A name not in the
 * cached list is looked up once more, since an upstream may add tools without announcing it.
 */
export function toolCatalog(upstream: Pick<Client, 'listTools'>, server: string) {
  let listing: Promise<Map<string, ToolLookup>> | undefined;

  async function list(): Promise<Map<string, ToolLookup>> {
    const names: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const result = await upstream.listTools(cursor === undefined ? undefined : { cursor });
      names.push(...result.tools.map((tool) => tool.name));
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return gatedTools(server, names);
  }

  function current(): Promise<Map<string, ToolLookup>> {
    if (!listing) {
      const loading = list();
      listing = loading;
      // A failed listing is not kept: the next call asks again.
      loading.catch(() => {
        if (listing === loading) listing = undefined;
      });
    }
    return listing;
  }

  return {
    async lookup(name: string): Promise<ToolLookup> {
      const cached = listing;
      let tools = await current();
      if (!tools.has(name) && cached) {
        if (listing === cached) listing = undefined;
        tools = await current();
      }
      return tools.get(name) ?? { refusal: `Tool ${JSON.stringify(name)} is not listed by the upstream server (names must match exactly), so the call was not submitted or forwarded.` };
    },
    /** The upstream announced a changed tool list. */
    invalidate(): void {
      listing = undefined;
    },
  };
}
