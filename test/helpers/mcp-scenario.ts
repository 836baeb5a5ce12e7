import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** Gives a client handlers for what a server may ask it: sampling, elicitation and roots, with fixed answers. */
export function answerServerRequests(client: Client, options: { roots: boolean } = { roots: true }): { sampled: string[] } {
  const sampled: string[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const first = request.params.messages[0]?.content;
    sampled.push(first && 'text' in first ? String(first.text) : '');
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'a sampled answer' }, stopReason: 'endTurn' };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { confirmed: true } }));
  if (options.roots) {
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///tmp', name: 'tmp' }] }));
  }
  return { sampled };
}

export const clientCapabilities = { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } };

/** Without roots: a filesystem server then keeps the directories it was started with, with no race on the roots exchange. */
export const noRootsCapabilities = { capabilities: { sampling: {}, elicitation: {} } };

/** Drives server-everything through the features a proxy must carry, and returns what came back, comparable across runs. */
export async function exerciseEverything(client: Client): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.server = client.getServerVersion();
  out.capabilities = client.getServerCapabilities();
  out.instructions = client.getInstructions();
  out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  out.echo = await client.callTool({ name: 'echo', arguments: { message: 'hello through the gateway' } });
  out.sum = await client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
  out.image = await client.callTool({ name: 'get-tiny-image', arguments: {} });

  const progress: number[] = [];
  out.longRunning = await client.callTool(
    { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
    undefined,
    { onprogress: (p) => progress.push(p.progress) },
  );
  // The last progress notification may race the result, so count only that progress arrived and rose.
  out.progressArrived = progress.length >= 2 && progress.every((p, i) => i === 0 || p > (progress[i - 1] as number));

  out.sampling = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'Say something', maxTokens: 20 } });

  const controller = new AbortController();
  const cancelled = client
    .callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 5 } },
      undefined,
      { signal: controller.signal, onprogress: () => controller.abort('the user gave up') },
    )
    .then(
      () => 'completed',
      (err: unknown) => (controller.signal.aborted ? 'cancelled' : `failed: ${String(err)}`),
    );
  out.cancel = await cancelled;
  out.afterCancel = await client.callTool({ name: 'echo', arguments: { message: 'still here' } });

  const resources = await client.listResources();
  out.resources = resources.resources.map((r) => r.uri);
  out.templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
  const first = resources.resources[0];
  out.read = first ? await client.readResource({ uri: first.uri }) : undefined;
  out.prompts = (await client.listPrompts()).prompts.map((p) => p.name);
  out.simplePrompt = await client.getPrompt({ name: 'simple-prompt' });
  out.argsPrompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Lisbon', state: 'Lisboa' } });
  out.ping = await client.ping();
  return out;
}

/** The same for server-filesystem rooted at `root`. */
export async function exerciseFilesystem(client: Client, root: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.server = client.getServerVersion();
  out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  out.allowed = await client.callTool({ name: 'list_allowed_directories', arguments: {} });
  out.write = await client.callTool({ name: 'write_file', arguments: { path: `${root}/note.txt`, content: 'written through MCP\n' } });
  out.read = await client.callTool({ name: 'read_text_file', arguments: { path: `${root}/note.txt` } });
  out.list = await client.callTool({ name: 'list_directory', arguments: { path: root } });
  out.outside = await client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } });
  return out;
}
