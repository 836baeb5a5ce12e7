import { resolveDataDir } from '../../config/data-dir.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { PendingChanged, PinStore } from '../../policy/pin-store.js';
import type { Command } from '../command.js';
import { callVerb } from '../gateway-client.js';
import { stringOption } from '../options.js';
import { CheckFailed, UsageError } from '../usage-error.js';

export const pinsCommand: Command = {
  summary: 'list pinned tool definitions and pending changes (`pins`), or accept changes (`pins accept SERVER [TOOL] [--fingerprint F]`)',
  usage: 'gatehouse pins [--json] | gatehouse pins accept SERVER [TOOL] [--fingerprint F]',
  options: { json: { type: 'boolean' }, fingerprint: { type: 'string' } },
  async run({ values, positionals }, io) {
    const dataDir = resolveDataDir(io.env);
    const [verb, server, tool, ...extra] = positionals;
    if (verb === 'accept') {
      if (!server || extra.length) throw new UsageError('accept takes SERVER and, optionally, one TOOL');
      const fingerprint = stringOption(values.fingerprint);
      if (fingerprint !== undefined && !/^[0-9a-fA-F]{6,64}$/.test(fingerprint)) throw new UsageError(`--fingerprint takes the hex that \`gatehouse pins\` shows (6 or more digits), not "${fingerprint}"`);
      // A running gateway is the pins' one writer: two writers would lose each other's changes.
      if (await isGatewayRunning(dataDir)) {
        const res = await callVerb(dataDir, 'acceptPins', server, tool, fingerprint);
        if (!res.body.ok) throw res.body.unknown ? new UsageError(res.body.message) : new CheckFailed(res.body.message);
        return void io.out(res.body.message);
      }
      const store = await PinStore.open(dataDir);
      try {
        const accepted = await store.accept(server, tool, { fingerprint });
        // Nothing to accept there names nothing, as an unknown approval id does: bad input (2), not a failed check.
        if (accepted.length === 0) throw new UsageError(`no pending tool change for ${server}${tool ? ` / ${tool}` : ''}; \`gatehouse pins\` lists them`);
        for (const a of accepted) {
          io.out(`accepted ${a.tool} on ${server}: definition ${a.fingerprint.slice(0, 12)}`);
          for (const c of a.changes) io.out(`  ${c.path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`);
        }
        return;
      } catch (err) {
        if (err instanceof PendingChanged) throw new CheckFailed(err.message);
        throw err;
      }
    }
    if (verb !== undefined) throw new UsageError(`unknown pins verb "${verb}"; use accept`);
    const store = await PinStore.open(dataDir);
    const rows = Object.entries(store.all()).flatMap(([srv, pins]) =>
      Object.entries(pins).map(([name, pin]) => ({ id: `${srv}/${name}`, server: srv, tool: name, fingerprint: pin.fingerprint, acceptedAt: pin.acceptedAt, pending: pin.pending })),
    );
    if (values.json) return void io.out(JSON.stringify(rows, null, 2));
    if (rows.length === 0) return void io.out('No tools are pinned yet: pins are taken the first time a server lists its tools.');
    for (const r of rows) {
      io.out(`${r.pending ? 'CHANGED ' : 'ok      '} ${r.server} / ${r.tool}  (accepted ${r.acceptedAt}${r.pending ? `; pending ${r.pending.fingerprint.slice(0, 12)}, seen ${r.pending.seenAt}` : ''})`);
      for (const c of r.pending?.changes ?? []) io.out(`           ${c.path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`);
      if (r.pending) io.out(`           accept exactly this: gatehouse pins accept ${r.server} ${r.tool} --fingerprint ${r.pending.fingerprint.slice(0, 12)}`);
    }
  },
};
