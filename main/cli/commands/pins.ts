import { resolveDataDir } from '../../config/data-dir.js';
import { PinStore } from '../../policy/pin-store.js';
import type { Command } from '../command.js';
import { UsageError } from '../usage-error.js';

export const pinsCommand: Command = {
  summary: 'list pinned tool definitions and pending changes (`pins`), or accept changes (`pins accept SERVER [TOOL]`)',
  usage: 'gatehouse pins [--json] | gatehouse pins accept SERVER [TOOL]',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const store = await PinStore.open(resolveDataDir(io.env));
    const [verb, server, tool, ...extra] = positionals;
    if (verb === 'accept') {
      if (!server || extra.length) throw new UsageError('accept takes SERVER and, optionally, one TOOL');
      const accepted = await store.accept(server, tool);
      if (accepted.length === 0) throw new UsageError(`no pending tool change for ${server}${tool ? ` / ${tool}` : ''}; \`gatehouse pins\` lists them`);
      return void io.out(`accepted the new definition of ${accepted.join(', ')} on ${server}`);
    }
    if (verb !== undefined) throw new UsageError(`unknown pins verb "${verb}"; use accept`);
    const rows = Object.entries(store.all()).flatMap(([srv, pins]) =>
      Object.entries(pins).map(([name, pin]) => ({ id: `${srv}/${name}`, server: srv, tool: name, fingerprint: pin.fingerprint, acceptedAt: pin.acceptedAt, pending: pin.pending })),
    );
    if (values.json) return void io.out(JSON.stringify(rows, null, 2));
    if (rows.length === 0) return void io.out('No tools are pinned yet: pins are taken the first time a server lists its tools.');
    for (const r of rows) {
      io.out(`${r.pending ? 'CHANGED ' : 'ok      '} ${r.server} / ${r.tool}  (accepted ${r.acceptedAt})`);
      for (const c of r.pending?.changes ?? []) io.out(`           ${c.path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`);
    }
  },
};
