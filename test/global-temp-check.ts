/**
 * Tests clean up after themselves: after the whole suite, nothing of theirs is left in the OS temp folder (a data
 * directory left there holds a token and a key). Entries are compared by name with those there before the run;
 * a new one left behind fails the run, named. Only this run's own leftovers count: other programs' entries made
 * meanwhile are told apart by their owner-only prefixes (`gatehouse-`, `vitest-`, `playwright`… are ours).
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

let before = new Set<string>();
const OURS = /^(?:gatehouse|\.?gatehouse|demo|vite|vitest|playwright|chromium|mcp|claude|gemini|oidc)/i;

export function setup(): void {
  before = new Set(readdirSync(tmpdir()));
}

export function teardown(): void {
  const left = readdirSync(tmpdir()).filter((name) => !before.has(name) && OURS.test(name));
  if (left.length === 0) return;
  // (A teardown's error is printed but does not fail the run: the exit code is set here.)
  console.error(`\nFAIL: the tests left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in ${tmpdir()}: ${left.join(', ')}`);
  process.exitCode = 1;
}
