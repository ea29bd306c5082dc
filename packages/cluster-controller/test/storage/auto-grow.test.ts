/** autoGrow: when a volume grows, by how much, and when it is reported instead. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { GROWN_AT_ANNOTATION } from '../../src/naming.js';
import {
  decideAutoGrow,
  nextSize,
  type AutoGrowInputs,
  type InstanceUsage,
} from '../../src/storage/auto-grow.js';
import { parseUsage } from '../../src/storage/usage-monitor.js';

const GI = 1024 ** 3;
const NOW = new Date('2026-12-04T12:00:00Z');

function claim(name: string, size = '10Gi', grownAt?: string): V1PersistentVolumeClaim {
  return {
    metadata: { name, ...(grownAt ? { annotations: { [GROWN_AT_ANNOTATION]: grownAt } } : {}) },
    spec: { resources: { requests: { storage: size } } },
    status: { phase: 'Bound', capacity: { storage: size } },
  };
}
/** An instance whose data volume of 10Gi has `usedGi` used, `walGi` of it in pg_wal. */
const instance = (usedGi: number, walGi = 0): InstanceUsage => ({
  volumes: { pgdata: { sizeBytes: 10 * GI, usedBytes: usedGi * GI } },
  walBytes: walGi * GI,
});

function inputs(overrides: Partial<AutoGrowInputs> = {}): AutoGrowInputs {
  return {
    autoGrow: { pgdata: { limit: '40Gi', thresholdPercent: 80, stepPercent: 25, minIntervalMinutes: 60 } },
    walTemplate: 'pgdata',
    claims: { pgdata: [claim('pgdata-web-0'), claim('pgdata-web-1')] },
    usage: { 'web-0': instance(5), 'web-1': instance(8.5) },
    backlog: { inactiveSlots: [] },
    now: NOW,
    ...overrides,
  };
}

describe('auto-grow', () => {
  it('grows every volume of the kind once one passes the threshold, by the step, at least 1Gi, up to the limit', () => {
    const d = decideAutoGrow(inputs());
    assert.deepEqual(
      d.grow.map((g) => [g.template, g.size]),
      [['pgdata', '12800Mi']],
    );
    assert.equal(d.condition?.reason, 'Growing');
    assert.match(d.condition!.message, /pgdata-web-1 is 85% full \(threshold 80%\)/);
    assert.deepEqual(d.usedPercent, { 'pgdata-web-0': 50, 'pgdata-web-1': 85 });
    assert.equal(nextSize(1 * GI, { limit: '100Gi', stepPercent: 10 }), 2 * GI, 'at least 1Gi');
    // Written as the API server writes it back: 2Gi, not 2048Mi.
    const small = decideAutoGrow(inputs({ claims: { pgdata: [claim('pgdata-web-1', '1Gi')] } }));
    assert.equal(small.grow[0]?.size, '2Gi');
    assert.equal(nextSize(38 * GI, { limit: '40Gi' }), 40 * GI, 'never past the limit');
  });

  it('says every volume is below its threshold, naming the fullest', () => {
    const d = decideAutoGrow(inputs({ usage: { 'web-0': instance(5), 'web-1': instance(7) } }));
    assert.deepEqual(d.grow, []);
    assert.equal(d.condition?.status, 'True');
    assert.match(d.condition!.message, /fullest: pgdata-web-1, 70%/);
  });

  it('reports WAL held back by failing archiving or an inactive slot instead of growing, unless told to grow anyway', () => {
    const backlog = { 'web-0': instance(5), 'web-1': instance(9, 7) };
    const archiving = decideAutoGrow(
      inputs({
        usage: backlog,
        backlog: { archivingFailingSince: '2026-12-04T11:00:00Z', inactiveSlots: [] },
      }),
    );
    assert.deepEqual(archiving.grow, []);
    assert.equal(archiving.condition?.reason, 'WalBacklog');
    assert.match(archiving.condition!.message, /78% of it WAL held back by failing WAL archiving/);
    const slot = decideAutoGrow(inputs({ usage: backlog, backlog: { inactiveSlots: ['old_standby'] } }));
    assert.match(slot.condition!.message, /inactive replication slot old_standby/);
    // Data, not WAL, filled it: archiving trouble is not the cause.
    const data = decideAutoGrow(
      inputs({
        usage: { 'web-1': instance(9, 1) },
        backlog: { archivingFailingSince: 'x', inactiveSlots: [] },
      }),
    );
    assert.equal(data.grow.length, 1);
    // A WAL volume holds only WAL: a backlog is the cause however du counts.
    const walVolume = decideAutoGrow(
      inputs({
        autoGrow: { pgwal: { limit: '40Gi' } },
        walTemplate: 'pgwal',
        claims: { pgwal: [claim('pgwal-web-0')] },
        usage: { 'web-0': { volumes: { pgwal: { sizeBytes: 10 * GI, usedBytes: 9 * GI } } } },
        backlog: { inactiveSlots: ['old_standby'] },
      }),
    );
    assert.equal(walVolume.condition?.reason, 'WalBacklog');
    assert.match(walVolume.condition!.message, /pgwal-web-0 is 90% full/);
    const anyway = decideAutoGrow(
      inputs({
        autoGrow: { pgdata: { limit: '40Gi', growWithWalBacklog: true } },
        usage: backlog,
        backlog: { inactiveSlots: ['old_standby'] },
      }),
    );
    assert.equal(anyway.grow.length, 1);
    assert.match(anyway.condition!.message, /growing despite WAL held back/);
  });

  it('waits minIntervalMinutes after the last growth, and stops at the limit', () => {
    const recent = decideAutoGrow(
      inputs({
        claims: { pgdata: [claim('pgdata-web-0'), claim('pgdata-web-1', '10Gi', '2026-12-04T11:30:00Z')] },
      }),
    );
    assert.deepEqual(recent.grow, []);
    assert.equal(recent.condition?.reason, 'GrowthDelayed');
    assert.match(recent.condition!.message, /again from 2026-12-04T12:30:00.000Z/);
    const later = decideAutoGrow(
      inputs({
        claims: { pgdata: [claim('pgdata-web-0'), claim('pgdata-web-1', '10Gi', '2026-12-04T10:00:00Z')] },
      }),
    );
    assert.equal(later.grow.length, 1);
    const limit = decideAutoGrow(inputs({ autoGrow: { pgdata: { limit: '10Gi' } } }));
    assert.deepEqual(limit.grow, []);
    assert.equal(limit.condition?.reason, 'AtLimit');
  });

  it('does not grow again while the last growth is still being carried out', () => {
    const expanding = claim('pgdata-web-1', '12800Mi');
    expanding.status!.capacity!.storage = '10Gi';
    const d = decideAutoGrow(inputs({ claims: { pgdata: [claim('pgdata-web-0', '12800Mi'), expanding] } }));
    assert.deepEqual(d.grow, []);
    assert.equal(d.condition?.reason, 'Growing');
    assert.match(d.condition!.message, /expanding to 12800Mi/);
  });

  it('says nothing before a volume was measured', () => {
    assert.equal(decideAutoGrow(inputs({ usage: {} })).condition, undefined);
  });

  it("reads df and du from the instance's pod", () => {
    const usage = parseUsage(
      [
        'pgdata /dev/loop3 1063256064 812646400 250609664 77% /var/lib/postgresql/data',
        'pgwal /dev/loop4 520093696 104857600 415236096 21% /var/lib/postgresql/wal',
        'wal 104857600',
      ].join('\n'),
    );
    assert.deepEqual(usage, {
      volumes: {
        pgdata: { usedBytes: 812646400, sizeBytes: 812646400 + 250609664 },
        pgwal: { usedBytes: 104857600, sizeBytes: 104857600 + 415236096 },
      },
      walBytes: 104857600,
    });
  });
});
