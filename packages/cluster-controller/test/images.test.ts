import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageFor, parseImageCatalog } from '../src/images.js';
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
