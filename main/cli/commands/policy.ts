import { resolveDataDir } from '../../config/data-dir.js';
import { configPath, loadConfigFile } from '../../config/load.js';
import { explain } from '../../policy/decide.js';
import { compilePolicy } from '../../policy/rules.js';
import { localPrincipal } from '../../audit/open-audit.js';
import type { Command } from '../command.js';
import { stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';

export const policyCommand: Command = {
  summary: 'validate the policy (`policy check`), or show which rule decides a call and why (`policy explain SERVER TOOL [ARGS_JSON]`)',
  usage: 'gatehouse policy check | gatehouse policy explain SERVER TOOL [ARGS_JSON] [--principal P] [--json]',
  options: { json: { type: 'boolean' }, principal: { type: 'string' } },
  async run({ values, positionals }, io) {
    const [verb, ...rest] = positionals;
    const file = configPath(resolveDataDir(io.env), stringOption(values.config));
    // Both verbs refuse a config that does not validate, naming file, line and key (exit 2).
    const config = loadConfigFile(file, { create: false });
    const policy = compilePolicy(config.policy);
    if (verb === 'check') {
      const summary = { file, ok: true, rules: policy.rules.map((r) => ({ name: r.name, action: r.action })), default: policy.default, onToolChange: policy.onToolChange };
      if (values.json) return void io.out(JSON.stringify(summary, null, 2));
      return void io.out(`${file}: the policy is valid: ${policy.rules.length} rule(s), default ${policy.default}, on_tool_change ${policy.onToolChange}`);
    }
    if (verb === 'explain') {
      const [server, tool, argsJson, ...extra] = rest;
      if (!server || !tool || extra.length) throw new UsageError('explain takes SERVER TOOL and, optionally, the arguments as one JSON object');
      let args: unknown = {};
      if (argsJson !== undefined) {
        try {
          args = JSON.parse(argsJson);
        } catch (err) {
          throw new UsageError(`ARGS_JSON is not valid JSON: ${(err as Error).message}`);
        }
      }
      const principal = stringOption(values.principal) ?? localPrincipal();
      const { decision, trace } = explain(policy, { server, tool, args, principal, groups: [] });
      if (values.json) return void io.out(JSON.stringify({ server, tool, args, principal, decision, trace }, null, 2));
      io.out(`${server} / ${tool} → ${decision.action.toUpperCase()} by ${decision.rule ? `rule "${decision.rule}"` : 'policy.default'}: ${decision.reason}`);
      for (const step of trace) io.out(`  ${step.matched ? '✓' : '✗'} ${step.rule}: ${step.matched ? 'matches' : 'does not match'} (${step.because})`);
      if (!decision.rule) io.out(`  → no rule matched, so policy.default (${policy.default}) decides`);
      return;
    }
    throw new UsageError(verb ? `unknown policy verb "${verb}"; use check or explain` : 'say check or explain');
  },
};
