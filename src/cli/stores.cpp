#include "cli/stores.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "cli/setup.hpp"
#include "s3/client.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/db/sqlite_refresh_token_store.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"
#include "storage/fs/layout.hpp"
#include "storage/memory/memory_lease_table.hpp"
#include "storage/pg/pg_stores.hpp"
#include "storage/s3/s3_blob_store.hpp"
#include "storage/s3/s3_upload_store.hpp"

namespace berth::cli {
namespace {

storage::PgOptions PgOptionsOf(const config::Config& c, bool migrate) {
  storage::PgOptions o;
  o.dsn = c.postgres.dsn;
  o.pool_size = c.postgres.pool_size;
  o.connect_timeout_s = static_cast<int>(c.postgres.connect_timeout);
  o.statement_timeout_ms = static_cast<int>(c.postgres.statement_timeout_ms);
  o.migrate = migrate;
  return o;
}

s3::ClientOptions S3OptionsOf(const config::Config& c) {
  s3::ClientOptions o;
  o.endpoint = c.s3.endpoint;
  o.region = c.s3.region;
  o.bucket = c.s3.bucket;
  o.access_key = c.s3.access_key;
  o.secret_key = Secret(c.s3.secret_key);
  o.ca_file = c.s3.ca_file;
  o.connect_timeout_ms = static_cast<int>(c.s3.connect_timeout_ms);
  o.request_timeout_ms = static_cast<int>(c.s3.request_timeout_ms);
  o.low_speed_seconds = static_cast<int>(c.s3.stall_timeout);
  return o;
}

// The database named in the log without its password, in either form
// libpq takes: "key=value ..." and "postgresql://user:password@host/db?password=...".
std::string Redacted(std::string dsn) {
  if (auto scheme = dsn.find("://"); scheme != std::string::npos) {
    auto at = dsn.find('@', scheme);
    auto colon = dsn.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      dsn.replace(colon + 1, at - colon - 1, Secret::kPrintable);
    }
  }
  for (size_t at = dsn.find("password="); at != std::string::npos;
       at = dsn.find("password=", at + 1)) {
    const size_t value = at + 9;
    const size_t end = dsn.find_first_of(" &", value);
    dsn.replace(value, (end == std::string::npos ? dsn.size() : end) - value, Secret::kPrintable);
  }
  return dsn;
}

}  // namespace

RegistryStores::~RegistryStores() {
  // Uploads refer to blobs, and both may refer to the database's pool.
  while (!owners_.empty()) owners_.pop_back();
}

RegistryStores OpenRegistryStores(const config::Config& c, bool wait_for_lock) {
  RegistryStores s;
  const bool s3 = c.storage.driver == "s3";
  const bool pg = c.metadata.driver == "postgres";
  // Blobs on this node's disk, or SQLite, make this node the only writer.
  s.shared_ = s3 && pg;
  if (!s.shared_) {
    auto lock =
        storage::DirLock::Acquire(c.storage.root, storage::layout::kLockName, wait_for_lock);
    if (!lock) throw std::runtime_error(lock.status().message());
    s.lock_ = std::move(lock).value();
  }

  if (pg) {
    auto stores =
        std::make_shared<storage::PgStores>(Must(storage::OpenPostgres(PgOptionsOf(c, true)),
                                                 "postgres (" + Redacted(c.postgres.dsn) + ")"));
    s.owners_.push_back(stores);
    s.meta_ = stores->metadata.get();
    s.lifecycle_ = stores->metadata.get();
    s.events_ = stores->metadata.get();
    s.leases_ = stores->leases.get();
    s.cluster_locks_ = stores->cluster_locks.get();
    s.metadata_on_network_ = true;
    spdlog::info("metadata in PostgreSQL ({}), pool of {}", Redacted(c.postgres.dsn),
                 c.postgres.pool_size);
  } else {
    std::shared_ptr<storage::SqliteMetadataStore> meta =
        Must(storage::SqliteMetadataStore::Open(storage::layout::MetadataDb(c.storage.root)),
             "metadata");
    s.owners_.push_back(meta);
    s.meta_ = meta.get();
    s.lifecycle_ = meta.get();
    s.events_ = meta.get();
  }
  storage::MetadataStore* m = s.meta_;
  s.readiness_.push_back({"database", [m] { return m->Ping(); }});

  if (s3) {
    auto client = std::make_shared<s3::Client>(S3OptionsOf(c));
    s.owners_.push_back(client);
    if (auto st = client->CheckBucket(c.s3.create_bucket); !st.ok()) {
      throw std::runtime_error("s3 bucket " + c.s3.bucket + " at " + c.s3.endpoint + ": " +
                               st.message());
    }
    if (!s.leases_) {
      auto leases = std::make_shared<storage::MemoryLeaseTable>();
      s.owners_.push_back(leases);
      s.leases_ = leases.get();
    }
    storage::S3BlobStoreOptions bo;
    bo.prefix = c.s3.prefix;
    bo.redirect = c.s3.redirect;
    bo.max_fetches = static_cast<int>(c.s3.max_fetches);
    bo.stall_timeout_ms = static_cast<int>(c.s3.stall_timeout * 1000);
    auto blobs = std::make_shared<storage::S3BlobStore>(*client, bo);
    s.owners_.push_back(blobs);
    storage::S3UploadStoreOptions uo;
    uo.prefix = c.s3.prefix;
    uo.part_size = c.s3.part_size;
    uo.memory_bytes = c.s3.upload_memory;
    // Spool files are unlinked at once; the directory only has to exist.
    uo.spool_dir = storage::layout::SpoolDir(c.storage.root);
    std::error_code ec;
    std::filesystem::create_directories(uo.spool_dir, ec);
    if (ec) throw std::runtime_error("cannot make " + uo.spool_dir + ": " + ec.message());
    auto uploads = std::make_shared<storage::S3UploadStore>(*client, *blobs, *s.leases_, uo);
    s.owners_.push_back(uploads);
    s.blobs_ = blobs.get();
    s.uploads_ = uploads.get();
    s.blobs_on_network_ = true;
    s3::Client* cl = client.get();
    s.readiness_.push_back({"s3", [cl] { return cl->CheckBucket(false); }});
    spdlog::info("blobs in s3 bucket {} at {} (prefix '{}', parts of {} bytes{})", c.s3.bucket,
                 c.s3.endpoint, c.s3.prefix, c.s3.part_size,
                 c.s3.redirect ? ", pulls redirected" : "");
  } else {
    auto blobs = std::make_shared<storage::FsBlobStore>(c.storage.root);
    if (auto st = blobs->Prepare(); !st.ok())
      throw std::runtime_error("storage.root: " + st.message());
    auto uploads = std::make_shared<storage::FsUploadStore>(c.storage.root, *blobs);
    s.owners_.push_back(blobs);
    s.owners_.push_back(uploads);
    s.blobs_ = blobs.get();
    s.uploads_ = uploads.get();
    s.readiness_.insert(s.readiness_.begin(),
                        ops::DirectoryWritable(storage::layout::UploadsDir(c.storage.root)));
  }
  if (s.shared_) spdlog::info("shared stores: other berths may serve them at the same time");
  return s;
}

TokenStores OpenTokenStores(const config::Config& c) {
  TokenStores t;
  if (c.metadata.driver == "postgres") {
    auto stores = Must(storage::OpenPostgres(PgOptionsOf(c, true)),
                       "postgres (" + Redacted(c.postgres.dsn) + ")");
    // The stores hold their own references to the pool.
    t.refresh = std::move(stores.refresh_tokens);
    t.login_failures = std::move(stores.login_failures);
    return t;
  }
  t.refresh =
      Must(storage::SqliteRefreshTokenStore::Open(storage::layout::TokensDb(c.storage.root)),
           storage::layout::kTokensDbName);
  return t;
}

std::unique_ptr<storage::RefreshTokenStore> OpenRefreshTokens(const config::Config& c) {
  return OpenTokenStores(c).refresh;
}

bool TokenNeedsLock(const config::Config& c) { return c.metadata.driver == "sqlite"; }

int Migrate(const std::string& config_path) {
  auto loaded = LoadConfigOrReport(config_path);
  if (!loaded) return 2;
  const config::Config& c = *loaded;
  if (c.metadata.driver != "postgres") {
    std::fprintf(stderr,
                 "berth migrate: metadata.driver is %s; SQLite is upgraded when berth opens it\n",
                 c.metadata.driver.c_str());
    return 2;
  }
  if (auto s = storage::MigratePostgres(PgOptionsOf(c, true)); !s.ok()) {
    std::fprintf(stderr, "berth migrate: %s\n", s.message().c_str());
    return s.code() == Errc::kUnavailable ? 3 : 1;
  }
  std::printf("the PostgreSQL schema is up to date\n");
  return 0;
}

}  // namespace berth::cli
