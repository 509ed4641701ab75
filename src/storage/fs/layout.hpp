// Paths inside the storage root. The on-disk format is described once, as a
// picture, in docs/storage-format.md; keep the two in step.
//
// Every path is built from validated values only (hex digests, hex upload
// ids), never from a repository name, so nothing a client sends can point
// outside the root.
#pragma once

#include <string>

#include "common/digest.hpp"

namespace berth::storage::layout {

inline std::string BlobsDir(const std::string& root) { return root + "/blobs"; }
inline std::string AlgorithmDir(const std::string& root, const Digest& d) {
  return BlobsDir(root) + "/" + std::string(d.algorithm_name());
}
inline std::string ShardDir(const std::string& root, const Digest& d) {
  return AlgorithmDir(root, d) + "/" + d.hex().substr(0, 2);
}
inline std::string BlobPath(const std::string& root, const Digest& d) {
  return ShardDir(root, d) + "/" + d.hex();
}
inline std::string UploadsDir(const std::string& root) { return root + "/uploads"; }
// Blob files GC took out of blobs/, waiting to be unlinked ("<algorithm>-<hex>").
inline std::string TrashDir(const std::string& root) { return root + "/trash"; }
inline std::string TrashPath(const std::string& root, const Digest& d) {
  return TrashDir(root) + "/" + std::string(d.algorithm_name()) + "-" + d.hex();
}
// One file per upload session, named "<id>-<key>" where the key is derived
// from the repository (FsUploadStore), so the name alone says whose it is.
inline std::string UploadFile(const std::string& root, const std::string& name) {
  return UploadsDir(root) + "/" + name;
}
inline std::string MetadataDb(const std::string& root) { return root + "/metadata.db"; }
// A dry run's private copy of metadata.db, deleted when the run ends.
inline std::string GcDryRunDb(const std::string& root) { return root + "/gc-dry-run.db"; }
inline std::string KeysDir(const std::string& root) { return root + "/keys"; }
// Generated when the configuration names no TLS certificate / token key.
inline std::string TlsCert(const std::string& root) { return KeysDir(root) + "/tls.crt"; }
inline std::string TlsKey(const std::string& root) { return KeysDir(root) + "/tls.key"; }
inline std::string TokenCert(const std::string& root) { return KeysDir(root) + "/token.crt"; }
inline std::string TokenKey(const std::string& root) { return KeysDir(root) + "/token.key"; }

// The locks (storage/fs/dir_lock.hpp takes the bare name): LOCK is held by
// the registry, LOCK.token by the token server, so `berth registry` and
// `berth token` can run as separate processes on one root.
inline constexpr const char* kLockName = "LOCK";
inline constexpr const char* kTokenLockName = "LOCK.token";
inline std::string LockFile(const std::string& root) { return root + "/" + kLockName; }
inline std::string TokenLockFile(const std::string& root) { return root + "/" + kTokenLockName; }

// The token server's refresh tokens (SQLite) when metadata is not on
// PostgreSQL. `berth user -f FILE` looks for it beside FILE instead.
inline constexpr const char* kTokensDbName = "tokens.db";
inline std::string TokensDb(const std::string& root) { return root + "/" + kTokensDbName; }
// The user file (bcrypt htpasswd) when token.htpasswd is not set.
inline std::string UserFile(const std::string& root) { return root + "/htpasswd"; }

// Blob files `berth fsck --repair` found corrupt, kept for inspection:
// "<algorithm>-<hex>-<unix time>".
inline std::string QuarantineDir(const std::string& root) { return root + "/quarantine"; }
inline std::string QuarantinePath(const std::string& root, const Digest& d, long long unix_time) {
  return QuarantineDir(root) + "/" + std::string(d.algorithm_name()) + "-" + d.hex() + "-" +
         std::to_string(unix_time);
}

// The S3 upload store's spool files (storage.driver s3): unlinked as soon as
// they are made, so the directory only has to exist.
inline std::string SpoolDir(const std::string& root) { return root + "/spool"; }

}  // namespace berth::storage::layout
