import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fullImageReference,
  imageAllowed,
  imageFor,
  parseAllowedRegistries,
  parseImageCatalog,
} from '../src/images.js';
import { cluster, basicCluster } from './fixtures.js';

describe('image catalog', () => {
  const catalog = parseImageCatalog('15=repo/pg:15, 17=repo/pg:17');

  it('gives the image of spec.version, and spec.image before it', () => {
    assert.equal(imageFor(cluster(basicCluster(), { version: 17 }), catalog), 'repo/pg:17');
    assert.equal(imageFor(cluster(basicCluster(), { version: 17, image: 'mine:1' }), catalog), 'mine:1');
    assert.equal(imageFor(cluster(basicCluster(), { version: 16 }), catalog), undefined);
  });

  it('refuses a malformed setting, naming the entry', () => {
    assert.throws(() => parseImageCatalog('17:repo/pg'), /"17:repo\/pg" is not <major>=<image>/);
  });
});

describe('allowed image registries', () => {
  const allowed = parseAllowedRegistries(' registry.example.com/ , ghcr.io/team,docker.io/library');

  it('reads the setting, ignoring blanks and trailing slashes', () => {
    assert.deepEqual(allowed, ['registry.example.com', 'ghcr.io/team', 'docker.io/library']);
    assert.deepEqual(parseAllowedRegistries(''), []);
  });

  it('spells out Docker Hub references the way the runtime resolves them', () => {
    assert.equal(fullImageReference('postgres:16'), 'docker.io/library/postgres:16');
    assert.equal(fullImageReference('bitnami/postgresql:16'), 'docker.io/bitnami/postgresql:16');
    assert.equal(fullImageReference('localhost/pgop/postgres:17'), 'localhost/pgop/postgres:17');
    assert.equal(fullImageReference('registry:5000/pg:16'), 'registry:5000/pg:16');
  });

  it('allows images under an allowed prefix and nothing that merely starts like one', () => {
    assert.ok(imageAllowed('registry.example.com/pg/postgres:17', allowed));
    assert.ok(imageAllowed('ghcr.io/team/pg@sha256:abc', allowed));
    assert.ok(imageAllowed('postgres:16', allowed));
    assert.ok(!imageAllowed('registry.example.com.evil.io/pg:17', allowed));
    assert.ok(!imageAllowed('ghcr.io/teammate/pg:17', allowed));
    assert.ok(!imageAllowed('bitnami/postgresql:16', allowed));
    assert.ok(imageAllowed('anything.io/at/all:1', []), 'no setting allows any image');
  });
});
