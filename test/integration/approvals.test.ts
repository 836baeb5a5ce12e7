import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../main/api/types.js';
import { readAllRecords } from '../helpers/audit-log.js';
import { runGatehouse } from '../helpers/cli.js';
import { startHarness, TestClock, waitFor, type Harness } from '../helpers/gateway-harness.js';
import { filesystemStdio } from '../helpers/servers.js';

const approveWrites = { rules: [{ name: 'writes-need-approval', match: { tool: 'write_file' }, action: 'approve', reason: 'writes are reviewed' }] };


describe('approvals', () => {
  let harness: Harness | undefined;
  let root: string;
  const setup = async (config: Record<string, unknown> = {}, options: Parameters<typeof startHarness>[1] = {}) => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-approvals-')));
    harness = await startHarness({ servers: { files: filesystemStdio(root) }, policy: approveWrites, ...config }, options);
    return harness;
  };
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  const pendingOne = async (h: Harness): Promise<ApprovalView> => {
    await waitFor(async () => (await h.gatehouse.api.approvals()).length > 0, 10_000, 'a call to wait for approval');
    return (await h.gatehouse.api.approvals())[0] as ApprovalView;
  };
  const write = (client: Client, name: string, content = 'hello') => client.callTool({ name: 'write_file', arguments: { path: join(root, name), content } });

  it('a write waits; `gatehouse approve` lets it through and the file is written', async () => {
    const h = await setup();
    const client = await h.connect('files');
    const call = write(client, 'approved.txt');
    const pending = await pendingOne(h);
    expect(pending).toMatchObject({ server: 'files', tool: 'write_file', rule: 'writes-need-approval', args: { path: join(root, 'approved.txt') } });
    expect(existsSync(join(root, 'approved.txt'))).toBe(false);
    const listed = await runGatehouse(['approvals'], { GATEHOUSE_HOME: h.home });
    expect(listed.stdout).toContain(pending.id.slice(0, 8));
    const approved = await runGatehouse(['approve', pending.id.slice(0, 8)], { GATEHOUSE_HOME: h.home });
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/allowed once by local:/);
    expect(JSON.stringify(await call)).toContain('Successfully wrote');
    expect(readFileSync(join(root, 'approved.txt'), 'utf8')).toBe('hello');
    // Deciding it again is refused: it was decided already.
    const again = await runGatehouse(['approve', pending.id], { GATEHOUSE_HOME: h.home });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('was already decided');
  });

  it('`gatehouse deny --reason` refuses it, and the client sees the reason; the decision records who, how and how long', async () => {
    const h = await setup();
    const client = await h.connect('files');
    const call = write(client, 'denied.txt').then(
      () => 'allowed',
      (err: Error) => err.message,
    );
    const pending = await pendingOne(h);
    expect((await runGatehouse(['deny', pending.id, '--reason', 'not during the freeze'], { GATEHOUSE_HOME: h.home })).code).toBe(0);
    expect(await call).toMatch(/rule "writes-need-approval"\): denied by local:[^:]+: not during the freeze/);
    expect(existsSync(join(root, 'denied.txt'))).toBe(false);
    await h.gatehouse.audit.log.flush();
    const decision = readAllRecords(h.home).find((r) => r.kind === 'decision' && r.tool === 'write_file');
    expect(decision?.decision).toMatchObject({ action: 'approve', outcome: 'deny', port: 'cli', approver: expect.stringMatching(/^local:/), waitedMs: expect.any(Number), approvalId: pending.id });
  });

  it('no decision within approvals.timeout denies the call, and a client that gave a progress token hears progress meanwhile', async () => {
    const h = await setup({ approvals: { timeout: '1500ms' } });
    const client = await h.connect('files');
    const progress: number[] = [];
    await expect(
      client.callTool({ name: 'write_file', arguments: { path: join(root, 'late.txt'), content: 'x' } }, undefined, { onprogress: (p) => progress.push(p.progress), timeout: 10_000 }),
    ).rejects.toThrow(/no one decided within 2s \(approvals.timeout\), so it was denied|no one decided within 1s/);
    expect(progress.length).toBeGreaterThan(0);
    expect(existsSync(join(root, 'late.txt'))).toBe(false);
  });

  it('"allow for 10 minutes" lets the next identical call through without asking, and stops after expiry', async () => {
    const clock = new TestClock();
    const h = await setup({}, { clock });
    const client = await h.connect('files');
    const first = write(client, 'granted.txt', 'one');
    const pending = await pendingOne(h);
    expect((await runGatehouse(['approve', pending.id, '--for', '10m'], { GATEHOUSE_HOME: h.home })).stdout).toMatch(/for 10 min/);
    await first;
    // Within the grant: through at once, no one asked.
    expect(JSON.stringify(await write(client, 'granted.txt', 'two'))).toContain('Successfully wrote');
    expect(await h.gatehouse.api.approvals()).toEqual([]);
    const grants = JSON.parse((await runGatehouse(['grants', '--json'], { GATEHOUSE_HOME: h.home })).stdout);
    expect(grants).toEqual([expect.objectContaining({ server: 'files', tool: 'write_file', boundToArgs: false, port: 'cli' })]);
    // After it expires: asked again.
    clock.advance(11 * 60_000);
    const third = write(client, 'granted.txt', 'three');
    const again = await pendingOne(h);
    await h.gatehouse.api.decideApproval(again.id, { action: 'deny', reason: 'enough' }, 'tray');
    await expect(third).rejects.toThrow(/enough/);
    expect(readFileSync(join(root, 'granted.txt'), 'utf8')).toBe('two');
  });

  it('50 approvals pending at once from 10 sessions, decided in random order from two ports at once: each call gets exactly its own decision', async () => {
    const h = await setup({ approvals: { timeout: '60s' } });
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => h.connect('files', new Client({ name: `agent-${i}`, version: '1' }))));
    const calls = clients.flatMap((client, s) =>
      Array.from({ length: 5 }, (_, k) => {
        const name = `s${s}-k${k}.txt`;
        return write(client, name, name).then(
          () => ({ name, result: 'allowed' as const }),
          (err: Error) => ({ name, result: 'denied' as const, message: err.message }),
        );
      }),
    );
    await waitFor(async () => (await h.gatehouse.api.approvals()).length === 50, 20_000, '50 pending approvals');
    const pending = await h.gatehouse.api.approvals();
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const order = [...pending].sort(() => random() - 0.5);
    const intended = new Map(order.map((p) => [p.id, random() < 0.5 ? 'allow' : 'deny']));
    const viaHttp = (p: ApprovalView, action: string) =>
      fetch(`${h.gatehouse.url}/api/approvals/${p.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.gatehouse.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action, ...(action === 'deny' ? { reason: `no for ${(p.args as { path: string }).path}` } : {}) }),
      }).then(async (r) => {
        expect([200, 409]).toContain(r.status); // decided here, or found already decided: never refused
        return { winner: r.status === 200, body: await r.json() };
      });
    const viaCore = (p: ApprovalView, action: string) =>
      h.gatehouse.api.decideApproval(p.id, action === 'allow' ? { action: 'allow' } : { action: 'deny', reason: `no for ${(p.args as { path: string }).path}` }, 'tray').then((r) => ({ winner: r.ok, body: r }));
    // Both ports decide every approval, the same way, at the same time: exactly one of each pair may win.
    const races = await Promise.all(order.map((p) => Promise.all([viaHttp(p, intended.get(p.id) as string), viaCore(p, intended.get(p.id) as string)])));
    for (const [a, b] of races) expect(Number(a.winner) + Number(b.winner)).toBe(1);

    const results = await Promise.all(calls);
    for (const p of pending) {
      const name = (p.args as { path: string }).path.split('/').pop() as string;
      const got = results.find((r) => r.name === name);
      expect(got?.result, name).toBe(intended.get(p.id) === 'allow' ? 'allowed' : 'denied');
      if (got?.result === 'denied') expect(got.message).toContain(`no for ${join(root, name)}`);
      expect(existsSync(join(root, name))).toBe(intended.get(p.id) === 'allow');
    }
    await h.gatehouse.audit.log.flush();
    const decisions = readAllRecords(h.home).filter((r) => r.kind === 'decision');
    expect(decisions).toHaveLength(50);
    expect(new Set(decisions.map((d) => (d.decision as { approvalId: string }).approvalId)).size).toBe(50);
    // Each decision names the port that won it: the HTTP API's (the CLI's token) or the core's (the tray).
    const ports = races.map(([a]) => (a.winner ? 'cli' : 'tray'));
    expect(decisions.map((d) => (d.decision as { port: string }).port).sort()).toEqual(ports.sort());
  });

  it('a client that supports elicitation is asked, and its answer decides', async () => {
    const h = await setup({ approvals: { elicitation: true, timeout: '20s' } });
    const answers: string[] = ['allow_once', 'deny'];
    const asked: string[] = [];
    const client = new Client({ name: 'eliciting-client', version: '1' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      const decision = answers.shift();
      return { action: 'accept', content: decision === 'deny' ? { decision: 'deny', reason: 'not from my laptop' } : { decision: decision as string } };
    });
    await h.connect('files', client);
    expect(JSON.stringify(await write(client, 'elicited.txt'))).toContain('Successfully wrote');
    await expect(write(client, 'refused.txt')).rejects.toThrow(/not from my laptop/);
    expect(asked).toHaveLength(2);
    expect(asked[0]).toContain('Gatehouse: allow files / write_file?');
    expect(existsSync(join(root, 'refused.txt'))).toBe(false);
    await h.gatehouse.audit.log.flush();
    expect(readAllRecords(h.home).filter((r) => r.kind === 'decision').map((r) => (r.decision as { port: string }).port)).toEqual(['elicitation', 'elicitation']);
  });

  it('the gateway restarted while a grant is active: the grant still holds; a call pending when it stopped was denied and recorded', async () => {
    const h = await setup({}, { keepHome: true });
    const home = h.home;
    const client = await h.connect('files');
    const first = write(client, 'granted.txt', 'same');
    // A grant bound to these exact arguments, for an hour.
    await h.gatehouse.api.decideApproval((await pendingOne(h)).id, { action: 'allow', forMs: 3_600_000, bindArgs: true }, 'tray');
    await first;
    // Other arguments are not covered: this one waits, and is still waiting when the gateway stops.
    const stranded = write(client, 'other.txt', 'different').then(
      () => 'allowed',
      (err: Error) => err.message,
    );
    const pending = await pendingOne(h);
    await h.stop();
    harness = undefined;
    expect(await stranded).not.toBe('allowed');
    expect(existsSync(join(root, 'other.txt'))).toBe(false);
    const stopped = readAllRecords(home).find((r) => r.kind === 'decision' && (r.decision as { approvalId?: string }).approvalId === pending.id);
    expect(stopped?.decision).toMatchObject({ outcome: 'deny', port: 'shutdown', reason: 'the gateway stopped before anyone decided' });

    harness = await startHarness({}, { home });
    const again = await harness.connect('files');
    expect(JSON.stringify(await write(again, 'granted.txt', 'same'))).toContain('Successfully wrote'); // the grant survived the restart
    expect(await harness.gatehouse.api.approvals()).toEqual([]);
    await harness.stop();
    harness = undefined;
    rmSync(home, { recursive: true, force: true }); // kept across the restart: removed here
  });
});
