// The stores a berth process works on, opened as the configuration says:
// the embedded pair (blobs and uploads under storage.root, SQLite metadata)
// held by one active process through the root's LOCK, or the shared pair
// (S3 blobs and uploads, PostgreSQL metadata) that several active berths use
// at once, where no node locks anything for long.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "ops/health.hpp"
#include "storage/blob_store.hpp"
#include "storage/cluster_lock.hpp"
#include "storage/lease_table.hpp"
#include "storage/event_queue.hpp"
#include "storage/fs/dir_lock.hpp"
#include "storage/lifecycle_store.hpp"
#include "storage/login_failure_store.hpp"
#include "storage/metadata_store.hpp"
#include "storage/refresh_token_store.hpp"
#include "storage/upload_store.hpp"

namespace berth::cli {

// The registry's stores. Interfaces only; the owners are kept inside.
class RegistryStores {
 public:
  RegistryStores() = default;
  RegistryStores(RegistryStores&&) = default;
  RegistryStores& operator=(RegistryStores&&) = default;
  ~RegistryStores();

  storage::BlobStore& blobs() const { return *blobs_; }
  storage::UploadStore& uploads() const { return *uploads_; }
  storage::MetadataStore& meta() const { return *meta_; }
  storage::LifecycleStore& lifecycle() const { return *lifecycle_; }
  storage::EventQueue& events() const { return *events_; }
  // What /readyz checks: the database answers, the blob storage is writable.
  const std::vector<ops::ReadinessCheck>& readiness() const { return readiness_; }
  // Whether other active berths may share these stores (S3 + PostgreSQL).
  bool shared() const { return shared_; }
  // Leases and "one node acts alone" locks shared by every node on these
  // stores; null when this process is the only one (single-node mode).
  storage::LeaseTable* leases() const { return shared_ ? leases_ : nullptr; }
  storage::ClusterLocks* cluster_locks() const { return cluster_locks_; }
  // Whether reading a blob waits on the network (S3): blob GETs then run on
  // the blocking pool (registry::Options::blobs_on_network).
  bool blobs_on_network() const { return blobs_on_network_; }
  // Likewise for metadata reads (PostgreSQL): registry::Options::metadata_on_network.
  bool metadata_on_network() const { return metadata_on_network_; }

 private:
  friend RegistryStores OpenRegistryStores(const config::Config& c, bool wait_for_lock);
  std::unique_ptr<storage::DirLock> lock_;
  // Owners of the concrete stores, destroyed last-made first.
  std::vector<std::shared_ptr<void>> owners_;
  storage::BlobStore* blobs_ = nullptr;
  storage::UploadStore* uploads_ = nullptr;
  storage::MetadataStore* meta_ = nullptr;
  storage::LifecycleStore* lifecycle_ = nullptr;
  storage::EventQueue* events_ = nullptr;
  storage::LeaseTable* leases_ = nullptr;
  storage::ClusterLocks* cluster_locks_ = nullptr;
  std::vector<ops::ReadinessCheck> readiness_;
  bool shared_ = false;
  bool blobs_on_network_ = false;
  bool metadata_on_network_ = false;
};

// Opens (and prepares) the registry's stores. In single-node mode the root's
// LOCK is taken first (`wait_for_lock`: wait for it, as a standby does).
// Throws std::runtime_error (config::ConfigError for a bad setting) naming
// what failed: for start-up only.
RegistryStores OpenRegistryStores(const config::Config& c, bool wait_for_lock);

// The token server's stores: refresh tokens in tokens.db under the root, or
// both in the PostgreSQL database when metadata.driver is postgres (then the
// failed-login counts too, shared by every node; null otherwise: the token
// server counts in memory).
struct TokenStores {
  std::unique_ptr<storage::RefreshTokenStore> refresh;
  std::unique_ptr<storage::LoginFailureStore> login_failures;
};
// Throws like OpenRegistryStores.
TokenStores OpenTokenStores(const config::Config& c);
// The refresh token store alone (OpenTokenStores().refresh).
std::unique_ptr<storage::RefreshTokenStore> OpenRefreshTokens(const config::Config& c);

// Whether the token server must hold LOCK.token (single-node metadata).
bool TokenNeedsLock(const config::Config& c);

}  // namespace berth::cli
