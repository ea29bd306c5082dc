/**
 * pgop's alerts (charts/pgop/files/prometheus-rules.yaml) with the real promtool: the rules are
 * valid, every alert's unit tests pass (alert-rules/pgop-alerts.test.yaml), every alert has a
 * case where it fires, and every runbook link leads to a page in docs/runbooks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT, goTool } from '../src/harness/index.js';

const RULES = join(REPO_ROOT, 'charts/pgop/files/prometheus-rules.yaml');
const TESTS = join(REPO_ROOT, 'e2e/integration/alert-rules/pgop-alerts.test.yaml');

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}
const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

function promtool(...args: string[]) {
  const res = spawnSync(goTool('promtool'), args, { encoding: 'utf8' });
  return { code: res.status ?? -1, output: `${res.stdout}${res.stderr}` };
}

describe('alert rules', () => {
  it('are valid rules for Prometheus', () => {
    const res = promtool('check', 'rules', RULES);
    assert.equal(res.code, 0, res.output);
  });

  it("pass promtool's unit tests", () => {
    const res = promtool('test', 'rules', TESTS);
    assert.equal(res.code, 0, res.output);
  });

  it('each fire in at least one test case', () => {
    const tests = parse(readFileSync(TESTS, 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => (a.exp_alerts ?? []).length > 0).map((a) => a.alertname),
      ),
    );
    const alerts = [...new Set(rules.map((r) => r.alert).filter((a) => a !== undefined))];
    assert.ok(alerts.length >= 18, `${alerts.length} alerts`);
    assert.deepEqual(
      alerts.filter((a) => !fired.has(a)),
      [],
      'alerts without a case where they fire',
    );
  });

  it('each link a runbook page of this repository that names the alert', () => {
    for (const rule of rules.filter((r) => r.alert)) {
      const link = rule.annotations?.runbook_url ?? '';
      assert.match(link, /^docs\/runbooks\/[A-Za-z]+\.md$/, `${rule.alert}: runbook_url ${link}`);
      const page = join(REPO_ROOT, link);
      assert.ok(existsSync(page), `${rule.alert}: ${link} does not exist`);
      assert.ok(readFileSync(page, 'utf8').includes(rule.alert!), `${link} does not name ${rule.alert}`);
    }
  });
});
