// Unit tests of ui/lib.js, the web interface's pure helpers, in Node (no
// browser): node --test tests/unit/ui/lib_test.mjs (ui_test.sh runs it).
// lib.js is an ES module named .js with no package.json beside it, so it is
// loaded from its text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const source = readFileSync(new URL('../../../ui/lib.js', import.meta.url), 'utf8');
const L = await import(`data:text/javascript,${encodeURIComponent(source)}`);

test('formatSize', () => {
  assert.equal(L.formatSize(0), '0 B');
  assert.equal(L.formatSize(1023), '1023 B');
  assert.equal(L.formatSize(1536), '1.5 KiB');
  assert.equal(L.formatSize(10 * 1048576), '10 MiB');
  assert.equal(L.formatSize(2 ** 50 * 3), '3072 TiB');
  for (const bad of [-1, NaN, Infinity, '12', null, undefined]) assert.equal(L.formatSize(bad), '?');
});

test('platformName and platforms', () => {
  assert.equal(L.platformName({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  assert.equal(L.platformName({ os: 'linux' }), 'linux/?');
  assert.equal(L.platformName(null), '');
  assert.equal(L.platformName('linux'), '');
  const index = {
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ platform: { os: 'linux', architecture: 'amd64' }, size: 10 },
      { platform: { os: 'unknown', architecture: 'unknown' }, size: 5 }, { size: 1 }],
  };
  assert.deepEqual(L.platforms(index), ['linux/amd64']);
  assert.deepEqual(L.platforms({ layers: [] }), []);
});

test('isIndex and imageSize', () => {
  assert.ok(L.isIndex({ mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }));
  assert.ok(L.isIndex({ manifests: [] }));
  assert.ok(!L.isIndex({ layers: [] }));
  assert.ok(!L.isIndex(null));
  assert.equal(L.imageSize({ config: { size: 7 }, layers: [{ size: 100 }, { size: 20 }, {}] }), 127);
  assert.equal(L.imageSize({ manifests: [{ size: 3 }, { size: 4 }] }), 7);
  assert.equal(L.imageSize(null), 0);
  assert.ok(L.MANIFEST_ACCEPT.includes('application/vnd.oci.image.manifest.v1+json'));
});

test('pullCommands: a tag after ":", a digest after "@"', () => {
  assert.deepEqual(L.pullCommands('h:1', 'a/b', 'v1'), {
    podman: 'podman pull h:1/a/b:v1', docker: 'docker pull h:1/a/b:v1', containerd: 'ctr images pull h:1/a/b:v1',
  });
  assert.equal(L.pullCommands('h:1', 'a/b', 'sha256:ab').podman, 'podman pull h:1/a/b@sha256:ab');
});

test('shortDigest', () => {
  assert.equal(L.shortDigest('sha256:0123456789abcdef0123'), 'sha256:0123456789ab…');
  assert.equal(L.shortDigest('sha256:01'), 'sha256:01');
  assert.equal(L.shortDigest(undefined), '');
});

test('parseHash, repoHash and imageHash round-trip', () => {
  assert.deepEqual(L.parseHash('#/r/a/b%20c/m/v1'), { view: 'image', name: 'a/b c', ref: 'v1' });
  assert.deepEqual(L.parseHash('#/r/a/b'), { view: 'repo', name: 'a/b' });
  assert.deepEqual(L.parseHash('#/?q=x%26y'), { view: 'list', q: 'x&y' });
  assert.deepEqual(L.parseHash(''), { view: 'list', q: '' });
  assert.deepEqual(L.parseHash(undefined), { view: 'list', q: '' });
  assert.deepEqual(L.parseHash('#/usage'), { view: 'usage' });
  for (const [name, ref] of [['alice/app', 'v1'], ['a/b/c', 'sha256:00ff'], ['x/y', 'a#b?c']]) {
    assert.deepEqual(L.parseHash(L.repoHash(name)), { view: 'repo', name });
    assert.deepEqual(L.parseHash(L.imageHash(name, ref)), { view: 'image', name, ref });
  }
});

test('formatTime', () => {
  assert.equal(L.formatTime('2024-01-02T03:04:05Z'), '2024-01-02 03:04');
  assert.equal(L.formatTime('not a time'), '');
  assert.equal(L.formatTime(''), '');
});

test('nextMarker: the last name of a full page only', () => {
  assert.equal(L.nextMarker(['a', 'b'], 2), 'b');
  assert.equal(L.nextMarker(['a'], 2), null);
  assert.equal(L.nextMarker([], 2), null);
  assert.equal(L.nextMarker(undefined, 2), null);
});

test('quotaShare', () => {
  assert.equal(L.quotaShare(0, 1000), '0%');
  assert.equal(L.quotaShare(1, 1000), '<1%');
  assert.equal(L.quotaShare(375, 1000), '37%');
  assert.equal(L.quotaShare(1000, 1000), '100%');
  assert.equal(L.quotaShare(5000, 1000), '100%');
  assert.equal(L.quotaShare(5, 0), '');
  assert.equal(L.quotaShare(5, undefined), '');
  assert.equal(L.quotaShare(undefined, 10), '');
});
