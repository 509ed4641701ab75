#include "cli/stores.hpp"

#include <stdexcept>

#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/db/sqlite_refresh_token_store.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"
#include "storage/fs/layout.hpp"

namespace berth::cli {
namespace {

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.status().message());
  return std::move(r).value();
}

}  // namespace

RegistryStores::~RegistryStores() {
  // Uploads refer to blobs, and both may refer to the database's pool.
  while (!owners_.empty()) owners_.pop_back();
}

RegistryStores OpenRegistryStores(const config::Config& c, bool wait_for_lock) {
  RegistryStores s;
  if (c.storage.driver != "filesystem" || c.metadata.driver != "sqlite") {
    throw config::ConfigError("storage.driver " + c.storage.driver + " with metadata.driver " +
                              c.metadata.driver + " is not available in this build");
  }
  auto lock = storage::DirLock::Acquire(c.storage.root, "LOCK", wait_for_lock);
  if (!lock) throw std::runtime_error(lock.status().message());
  s.lock_ = std::move(lock).value();

  auto blobs = std::make_shared<storage::FsBlobStore>(c.storage.root);
  if (auto st = blobs->Prepare(); !st.ok()) throw std::runtime_error("storage.root: " + st.message());
  auto uploads = std::make_shared<storage::FsUploadStore>(c.storage.root, *blobs);
  std::shared_ptr<storage::SqliteMetadataStore> meta =
      Must(storage::SqliteMetadataStore::Open(storage::layout::MetadataDb(c.storage.root)), "metadata");
  s.owners_ = {blobs, uploads, meta};
  s.blobs_ = blobs.get();
  s.uploads_ = uploads.get();
  s.meta_ = meta.get();
  s.lifecycle_ = meta.get();
  s.events_ = meta.get();
  storage::MetadataStore* m = meta.get();
  s.readiness_ = {ops::DirectoryWritable(storage::layout::UploadsDir(c.storage.root)),
                  {"database", [m] { return m->Ping(); }}};
  return s;
}

std::unique_ptr<storage::RefreshTokenStore> OpenRefreshTokens(const config::Config& c) {
  return Must(storage::SqliteRefreshTokenStore::Open(c.storage.root + "/tokens.db"), "tokens.db");
}

bool TokenNeedsLock(const config::Config& c) { return c.metadata.driver == "sqlite"; }

}  // namespace berth::cli
