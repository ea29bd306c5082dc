/** The switchover step of the HA runner: what it does around Patroni's switchover. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { ROLE_LABEL } from '@pgop/api';
import { createLogger } from '@pgop/runtime';
import { HaRunner, type HaRunnerDeps } from '../../src/ha/runner.js';
import type { ClusterObservation } from '../../src/observe.js';
import type { SwitchoverStep } from '../../src/ha/switchover.js';
import { cluster, poolerCluster } from '../fixtures.js';

function instancePod(name: string, role: string, resourceVersion: string): V1Pod {
  return {
    metadata: { name, namespace: 'db', resourceVersion, labels: { [ROLE_LABEL]: role } },
    status: { podIP: `10.0.0.${name.at(-1)}`, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

describe('HA runner: a switchover', () => {
  const step: SwitchoverStep = {
    type: 'execute',
    record: {
      startedAt: '2026-12-04T12:00:00Z',
      from: 'web-1',
      to: 'web-0',
      reason: 'ScaleDown',
      phase: 'InProgress',
    },
  };

  /** Every call the runner makes, in order; the old primary as the pod cache still has it. */
  function run(cached: V1Pod) {
    const calls: string[] = [];
    const deps = {
      client: {
        mergePatch: (ref: { name: string }, patch: { metadata: Record<string, unknown> }) => {
          calls.push(`patch ${ref.name} ${JSON.stringify(patch.metadata)}`);
          return Promise.resolve();
        },
      },
      events: { about: () => () => Promise.resolve() },
      logger: createLogger({ component: 'test', level: 'error' }),
      patroni: {
        switchover: () => {
          calls.push('switchover');
          return Promise.resolve('switched over');
        },
      },
      pods: { get: (name: string) => (name === cached.metadata!.name ? cached : undefined) },
      secrets: { get: () => undefined },
      configMaps: { get: () => undefined },
      pooler: {
        pause: () => {
          calls.push('pause');
          return Promise.resolve(['web-pooler-a']);
        },
        resume: () => {
          calls.push('resume');
          return Promise.resolve();
        },
      },
    } as unknown as HaRunnerDeps;
    const o = {
      cluster: cluster(poolerCluster()),
      key: 'db/web',
      name: 'web',
      namespace: 'db',
      pods: [instancePod('web-0', 'replica', '5'), instancePod('web-1', 'primary', '6')],
    } as unknown as ClusterObservation;
    return { runner: new HaRunner(deps), o, calls };
  }

  it('takes the primary label off the old primary before the pooler resumes, so no new connection reaches it', async () => {
    const { runner, o, calls } = run(instancePod('web-1', 'primary', '9'));
    const result = await runner.switchover(o, step);
    assert.equal(result?.phase, 'Succeeded');
    assert.deepEqual(calls, [
      'pause',
      'switchover',
      `patch web-1 ${JSON.stringify({ labels: { [ROLE_LABEL]: null }, resourceVersion: '9' })}`,
      'resume',
    ]);
  });

  it('leaves the label alone once Patroni has relabelled the old primary itself', async () => {
    const { runner, o, calls } = run(instancePod('web-1', 'replica', '9'));
    await runner.switchover(o, step);
    assert.deepEqual(calls, ['pause', 'switchover', 'resume']);
  });
});
