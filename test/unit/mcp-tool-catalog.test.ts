import { gatedTools, toolCatalog } from '../../src/agents/mcp/tool-catalog';

describe('gatedTools', () => {
  it('maps each listed name to its action type, refusing names that share one', () => {
    const tools = gatedTools('up', ['transfer', 'send email', 'send_email', 'Send_Email', 'a.b']);
    expect(tools.get('transfer')).toEqual({ actionType: 'mcp.up.transfer' });
    expect(tools.get('Send_Email')).toEqual({ actionType: 'mcp.up.Send_Email' });
    expect(tools.get('a.b')).toEqual({ actionType: 'mcp.up.a.b' });
    for (const name of ['send email', 'send_email']) expect(tools.get(name)).toEqual({ refusal: expect.stringContaining('"send email" and "send_email"') });
    expect(tools.has('SEND EMAIL')).toBe(false);
  });
});

describe('toolCatalog', () => {
  const upstream = (pages: string[][][]) => {
    let listing = 0;
    const listTools = jest.fn(async (params?: { cursor?: string }) => {
      const current = pages[Math.min(listing, pages.length - 1)]!;
      const page = params?.cursor ? Number(params.cursor) : 0;
      if (page === current.length - 1) listing += 1;
      return { tools: current[page]!.map((name) => ({ name, inputSchema: { type: 'object' as const } })), nextCursor: page + 1 < current.length ? String(page + 1) : undefined };
    });
    return { listTools };
  };

  it('reads every page of the list', async () => {
    const fake = upstream([[['a'], ['b']]]);
    const catalog = toolCatalog(fake, 'up');
    expect(await catalog.lookup('b')).toEqual({ actionType: 'mcp.up.b' });
    expect(await catalog.lookup('a')).toEqual({ actionType: 'mcp.up.a' });
    expect(fake.listTools).toHaveBeenCalledTimes(2);
  });

  it('asks again once for a name it has not seen, then refuses it by exact name', async () => {
    const fake = upstream([[['a']], [['a', 'added']]]);
    const catalog = toolCatalog(fake, 'up');
    expect(await catalog.lookup('a')).toEqual({ actionType: 'mcp.up.a' });
    expect(await catalog.lookup('added')).toEqual({ actionType: 'mcp.up.added' });
    expect(await catalog.lookup('ADDED')).toEqual({ refusal: expect.stringContaining('"ADDED" is not listed') });
    expect(fake.listTools).toHaveBeenCalledTimes(3);
  });

  it('does not keep a failed listing', async () => {
    const listTools = jest.fn().mockRejectedValueOnce(new Error('upstream down')).mockResolvedValue({ tools: [{ name: 'a', inputSchema: { type: 'object' } }] });
    const catalog = toolCatalog({ listTools }, 'up');
    await expect(catalog.lookup('a')).rejects.toThrow('upstream down');
    expect(await catalog.lookup('a')).toEqual({ actionType: 'mcp.up.a' });
  });
});
