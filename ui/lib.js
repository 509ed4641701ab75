// Pure helpers of the web interface: no DOM, no network, so the browser
// test can call them directly.

// 1536 -> "1.5 KiB"
export function formatSize(bytes) {
  if (typeof bytes !== 'number' || !isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// "linux/arm64/v8" from an index entry's platform; "" when none.
export function platformName(p) {
  if (!p || typeof p !== 'object' || !p.os) return '';
  let s = `${p.os}/${p.architecture || '?'}`;
  if (p.variant) s += `/${p.variant}`;
  return s;
}

export const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

export const MANIFEST_ACCEPT = [
  ...INDEX_TYPES,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export function isIndex(manifest) {
  return !!manifest && (INDEX_TYPES.includes(manifest.mediaType) || Array.isArray(manifest.manifests));
}

// Size of an image: its config and layers. Of an index: only its child
// manifests as listed (app.js fetches them to sum their images instead).
export function imageSize(manifest) {
  if (!manifest) return 0;
  if (isIndex(manifest)) return (manifest.manifests || []).reduce((a, m) => a + (m.size || 0), 0);
  const layers = (manifest.layers || []).reduce((a, l) => a + (l.size || 0), 0);
  return layers + ((manifest.config && manifest.config.size) || 0);
}

// Platforms of an index ("linux/amd64", ...), skipping attestations.
export function platforms(manifest) {
  if (!isIndex(manifest)) return [];
  return (manifest.manifests || []).map((m) => platformName(m.platform))
    .filter((p) => p && p !== 'unknown/unknown');
}

// The pull commands for host/name and a tag or digest.
export function pullCommands(host, name, ref) {
  const sep = ref.startsWith('sha256:') ? '@' : ':';
  const image = `${host}/${name}${sep}${ref}`;
  return {
    podman: `podman pull ${image}`,
    docker: `docker pull ${image}`,
    containerd: `ctr images pull ${image}`,
  };
}

// "sha256:0123456789ab…" shortened for tables.
export function shortDigest(d) {
  return typeof d === 'string' && d.length > 19 ? `${d.slice(0, 19)}…` : String(d || '');
}

// Parses the view out of location.hash: #/ -> list, #/r/<name> -> repo,
// #/r/<name>/m/<ref> -> image, #/usage -> usage. Names are URI-encoded per segment.
export function parseHash(hash) {
  const h = (hash || '').replace(/^#/, '');
  if (h === '/usage') return { view: 'usage' };
  const m = /^\/r\/(.+?)(?:\/m\/([^/]+))?$/.exec(h);
  if (!m) {
    const q = /^\/\?q=(.*)$/.exec(h);
    return { view: 'list', q: q ? decodeURIComponent(q[1]) : '' };
  }
  const name = m[1].split('/').map(decodeURIComponent).join('/');
  if (m[2]) return { view: 'image', name, ref: decodeURIComponent(m[2]) };
  return { view: 'repo', name };
}

export function repoHash(name) {
  return `#/r/${name.split('/').map(encodeURIComponent).join('/')}`;
}

export function imageHash(name, ref) {
  return `${repoHash(name)}/m/${encodeURIComponent(ref)}`;
}

// "2024-01-02 03:04" from an ISO time; "" when absent or invalid.
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  return d.toISOString().replace('T', ' ').slice(0, 16);
}

// The `last` marker for the page after `names` when `n` were asked for
// (the registry's n/last paging): the last name of a full page, else null.
export function nextMarker(names, n) {
  return Array.isArray(names) && names.length > 0 && names.length >= n ? names[names.length - 1] : null;
}

// The share of a quota used, as "37%" (at least "<1%" when anything is
// used, "100%" past the limit); "" without a quota.
export function quotaShare(used, quota) {
  if (typeof quota !== 'number' || !(quota > 0) || typeof used !== 'number' || !(used >= 0)) return '';
  if (used >= quota) return '100%';
  const pct = Math.floor((used * 100) / quota);
  return pct === 0 && used > 0 ? '<1%' : `${pct}%`;
}
