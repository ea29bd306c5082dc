import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestResource } from '../src/api-requests.js';

describe('requestResource (the resource label of pgop_api_requests_total)', () => {
  it('names the resource and subresource of core, group, namespaced and cluster-scoped paths', () => {
    assert.equal(requestResource('/api/v1/namespaces/db/pods'), 'pods');
    assert.equal(requestResource('/api/v1/namespaces/db/pods/a-0'), 'pods');
    assert.equal(requestResource('/api/v1/namespaces/db/pods/a-0/exec'), 'pods/exec');
    assert.equal(
      requestResource('/apis/postgres.example.com/v1/namespaces/db/postgresclusters/a/status'),
      'postgresclusters/status',
    );
    assert.equal(requestResource('/apis/apps/v1/statefulsets'), 'statefulsets');
    assert.equal(requestResource('/api/v1/namespaces/db'), 'namespaces');
    assert.equal(requestResource('/api/v1/nodes/n1'), 'nodes');
    assert.equal(requestResource('/version'), '/version');
  });
});
