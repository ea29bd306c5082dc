/**
 * The pre-flight check of a restore: a Job that reads the source repository (pgbackrest info,
 * and the newest archived WAL segment's time) before anything is touched. It reports facts,
 * not a verdict: restore/preflight.ts decides whether the target lies inside what they show.
 * Its exit status says only whether the repository could be read.
 */
import { PGBACKREST_STANZA, type PostgresCluster, type RestoreTarget } from '@pgop/api';
import type { RepositoryOf } from '../pgbackrest/repository.js';
import { RESTORE_SOURCE_DIR, renderRestoreStepJob } from './restore-pod.js';

export function restoreCheckJobName(clusterName: string): string {
  return `${clusterName}-restore-check`;
}

/**
 * Prints (and leaves as the termination message) one JSON object: the stanza's status, how many
 * valid backups it holds, the oldest and newest with their end times, the requested label if
 * found, the PostgreSQL version of the newest backup, and when the newest WAL segment was stored.
 * Python: the image has it for Patroni, and it reads pgBackRest's JSON without loss.
 */
export const CHECK_SCRIPT = `import json, os, subprocess, sys

SOURCE = '${RESTORE_SOURCE_DIR}'


def finish(text, code):
    with open('/dev/termination-log', 'w') as log:
        log.write(text[-3500:])
    print(text)
    sys.exit(code)


# The source repository's credentials, from files, never on a command line.
secrets = os.path.join(SOURCE, 'secret')
for name in os.listdir(secrets) if os.path.isdir(secrets) else []:
    with open(os.path.join(secrets, name)) as f:
        os.environ['PGBACKREST_' + name] = f.read().rstrip('\\n')
os.environ['PGBACKREST_CONFIG'] = os.path.join(SOURCE, 'pgbackrest.conf')


def pgbackrest(*args):
    run = subprocess.run(['pgbackrest', '--log-level-console=off', '--log-level-stderr=error', *args], capture_output=True, text=True)
    if run.returncode != 0:
        output = (run.stdout + run.stderr).splitlines()
        errors = [line for line in output if 'ERROR' in line] or output[-5:]
        finish('the source repository cannot be read: ' + ' '.join(errors), 1)
    return run.stdout


stanza = json.loads(pgbackrest('--stanza=${PGBACKREST_STANZA}', 'info', '--output=json'))[0]
backups = [b for b in stanza.get('backup', []) if not b.get('error')]
label = sys.argv[1] if len(sys.argv) > 1 else ''
point = lambda b: {'label': b['label'], 'stop': b['timestamp']['stop']} if b else None
facts = {
    'status': stanza['status']['message'],
    'backups': len(backups),
    'first': point(backups[0] if backups else None),
    'last': point(backups[-1] if backups else None),
    'label': point(next((b for b in backups if b['label'] == label), None)),
}
if backups:
    database = backups[-1]['database']['id']
    facts['version'] = next((d['version'] for d in stanza['db'] if d['id'] == database), None)
archives = [a for a in stanza.get('archive', []) if a.get('max')]
if archives:
    archive = max(archives, key=lambda a: a['max'])
    segment = archive['max']
    listing = json.loads(pgbackrest('repo-ls', '--output=json',
                                    'archive/${PGBACKREST_STANZA}/%s/%s' % (archive['id'], segment[:16])))
    times = [entry['time'] for name, entry in listing.items() if name.startswith(segment)]
    facts['wal'] = {'segment': segment, 'time': max(times) if times else None}
finish(json.dumps(facts, separators=(',', ':')), 0)
`;

/** The check's ConfigMap and Job for a restore request, against the source repository. */
export function renderRestoreCheckJob(
  cluster: PostgresCluster,
  requestKey: string,
  target: RestoreTarget,
  source: RepositoryOf,
  image: string,
) {
  return renderRestoreStepJob(cluster, {
    name: restoreCheckJobName(cluster.metadata.name!),
    requestKey,
    source,
    image,
    script: { key: 'check.py', text: CHECK_SCRIPT },
    command: ['python3', ...(target.backupLabel ? [target.backupLabel] : [])],
    dataVolume: false,
  });
}
