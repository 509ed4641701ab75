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
inline std::string LockFile(const std::string& root) { return root + "/LOCK"; }

}  // namespace berth::storage::layout
