#!/usr/bin/env python3
"""Pushes the web interface suite's test images over the registry API.

  ui_push.py BASE TOKEN_URL CACERT USER:PASS image REPO TAG [--labels JSON] [--arch A]
  ui_push.py BASE TOKEN_URL CACERT USER:PASS index REPO TAG
  ui_push.py BASE TOKEN_URL CACERT USER:PASS many PREFIX COUNT
  ui_push.py BASE TOKEN_URL CACERT USER:PASS tags REPO COUNT

`image` pushes a one-layer image (prints its digest); `index` two of them
(linux/amd64, linux/arm64) under an OCI index; `many` COUNT repositories
PREFIX0000... each with a tiny manifest, sharing one config and layer that
are mounted rather than uploaded again; `tags` one image under COUNT tags
t000, t001, ...
"""
import base64
import hashlib
import http.client
import json
import os
import ssl
import sys
import urllib.parse

BASE, TOKEN_URL, CACERT, CREDS = sys.argv[1:5]
CTX = ssl.create_default_context(cafile=CACERT)
U = urllib.parse.urlsplit(BASE)
T = urllib.parse.urlsplit(TOKEN_URL)
conn = http.client.HTTPSConnection(U.hostname, U.port, context=CTX, timeout=30)
tconn = http.client.HTTPSConnection(T.hostname, T.port, context=CTX, timeout=30)
AUTH = 'Basic ' + base64.b64encode(CREDS.encode()).decode()


def token(scopes):
    q = urllib.parse.urlencode([('service', 'berth')] + [('scope', s) for s in scopes])
    tconn.request('GET', T.path + '?' + q, headers={'Authorization': AUTH})
    r = tconn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f'token: {r.status} {body[:200]!r}')
    return json.loads(body)['token']


def call(method, path, tok, body=b'', headers=None, ok=(200, 201, 202)):
    h = {'Authorization': 'Bearer ' + tok}
    h.update(headers or {})
    conn.request(method, path, body=body if body or method in ('PUT', 'POST') else None, headers=h)
    r = conn.getresponse()
    data = r.read()
    if r.status not in ok:
        sys.exit(f'{method} {path}: {r.status} {data[:300]!r}')
    return r, data


def digest(b):
    return 'sha256:' + hashlib.sha256(b).hexdigest()


def put_blob(repo, tok, data):
    d = digest(data)
    call('POST', f'/v2/{repo}/blobs/uploads/?digest={d}', tok, data,
         {'Content-Type': 'application/octet-stream'}, ok=(201,))
    return {'digest': d, 'size': len(data)}


def put_manifest(repo, tok, ref, manifest, media_type):
    body = json.dumps(manifest).encode()
    call('PUT', f'/v2/{repo}/manifests/{ref or digest(body)}', tok, body, {'Content-Type': media_type}, ok=(201,))
    return digest(body), len(body)


def image(repo, tag, labels=None, arch='amd64', tok=None):
    tok = tok or token([f'repository:{repo}:pull,push'])
    layer = put_blob(repo, tok, os.urandom(2048 + len(arch)))
    cfg = {'architecture': arch, 'os': 'linux', 'created': '2024-05-01T12:00:00Z',
           'config': {'Entrypoint': ['/bin/app'], 'Cmd': ['--serve'], 'Env': ['PATH=/usr/bin', 'MODE=test'],
                      'Labels': labels or {'org.opencontainers.image.title': repo}},
           'rootfs': {'type': 'layers', 'diff_ids': [layer['digest']]},
           'history': [{'created': '2024-05-01T12:00:00Z', 'created_by': 'ADD app /bin/app'}]}
    config = put_blob(repo, tok, json.dumps(cfg).encode())
    mt = 'application/vnd.oci.image.manifest.v1+json'
    m = {'schemaVersion': 2, 'mediaType': mt,
         'config': dict(mediaType='application/vnd.oci.image.config.v1+json', **config),
         'layers': [dict(mediaType='application/vnd.oci.image.layer.v1.tar+gzip', **layer)]}
    return put_manifest(repo, tok, tag, m, mt)


def index(repo, tag):
    tok = token([f'repository:{repo}:pull,push'])
    entries = []
    for arch in ('amd64', 'arm64'):
        d, size = image(repo, None, arch=arch, tok=tok)
        entries.append({'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': d,
                        'size': size, 'platform': {'os': 'linux', 'architecture': arch}})
    mt = 'application/vnd.oci.image.index.v1+json'
    return put_manifest(repo, tok, tag, {'schemaVersion': 2, 'mediaType': mt, 'manifests': entries}, mt)


def many(prefix, count):
    first = f'{prefix}0000'
    tok = token([f'repository:{first}:pull,push'])
    layer = put_blob(first, tok, b'tiny layer')
    config = put_blob(first, tok, b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    mt = 'application/vnd.oci.image.manifest.v1+json'
    m = {'schemaVersion': 2, 'mediaType': mt,
         'config': dict(mediaType='application/vnd.oci.image.config.v1+json', **config),
         'layers': [dict(mediaType='application/vnd.oci.image.layer.v1.tar+gzip', **layer)]}
    put_manifest(first, tok, 'v1', m, mt)
    batch = 25
    for start in range(1, count, batch):
        repos = [f'{prefix}{i:04d}' for i in range(start, min(start + batch, count))]
        tok = token([f'repository:{r}:pull,push' for r in repos] + [f'repository:{first}:pull'])
        for r in repos:
            for b in (layer, config):
                call('POST', f'/v2/{r}/blobs/uploads/?mount={b["digest"]}&from={first}', tok, ok=(201,))
            put_manifest(r, tok, 'v1', m, mt)


def tags(repo, count):
    tok = token([f'repository:{repo}:pull,push'])
    image(repo, 't000', tok=tok)
    mt = 'application/vnd.oci.image.manifest.v1+json'
    _, body = call('GET', f'/v2/{repo}/manifests/t000', tok, headers={'Accept': mt})
    for i in range(1, count):
        call('PUT', f'/v2/{repo}/manifests/t{i:03d}', tok, body, {'Content-Type': mt}, ok=(201,))


what = sys.argv[5]
if what == 'image':
    labels = None
    arch = 'amd64'
    rest = sys.argv[8:]
    if '--labels' in rest:
        labels = json.loads(rest[rest.index('--labels') + 1])
    if '--arch' in rest:
        arch = rest[rest.index('--arch') + 1]
    print(image(sys.argv[6], sys.argv[7], labels, arch)[0])
elif what == 'index':
    print(index(sys.argv[6], sys.argv[7])[0])
elif what == 'tags':
    tags(sys.argv[6], int(sys.argv[7]))
elif what == 'many':
    many(sys.argv[6], int(sys.argv[7]))
else:
    sys.exit('unknown command ' + what)
