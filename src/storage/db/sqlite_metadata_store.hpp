// SqliteMetadataStore: the MetadataStore on one SQLite database in WAL mode
// with synchronous=FULL, so a committed transaction is on stable storage
// before the call returns. The schema lives in sqlite_metadata_store.cpp and
// is pictured in docs/storage-format.md.
//
// Thread-safety: safe from many threads. Writes are serialised on one
// connection (SQLite has one writer anyway). Reads take a connection of their
// own from a small pool: in WAL mode a reader never waits for the writer, so
// a lookup is never stuck behind a commit's fsync (reads may run on the
// network threads, see http::Handler::Quick).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/db/sqlite.hpp"
#include "storage/metadata_store.hpp"

namespace berth::storage {

class SqliteMetadataStore final : public MetadataStore {
 public:
  // Opens or creates the database and brings its schema up to date.
  // Start-up only: kInternal on failure.
  static Result<std::unique_ptr<SqliteMetadataStore>> Open(const std::string& path);

  Status Ping() override;
  Status LinkBlob(const std::string& repository, const Digest& digest, uint64_t size) override;
  Result<uint64_t> LinkedBlobSize(const std::string& repository, const Digest& digest) override;
  Status UnlinkBlob(const std::string& repository, const Digest& digest) override;
  Status PutManifest(const std::string& repository, const ManifestPut& put) override;
  Result<ManifestRecord> GetManifest(const std::string& repository,
                                     const Reference& reference) override;
  Status DeleteTag(const std::string& repository, const std::string& tag) override;
  Status DeleteManifest(const std::string& repository, const Digest& digest) override;
  Result<std::vector<std::string>> ListTags(const std::string& repository, const std::string& last,
                                            size_t limit) override;
  Result<std::vector<std::string>> ListRepositories(const std::string& last, size_t limit) override;
  Result<std::vector<ReferrerRecord>> ListReferrers(const std::string& repository,
                                                    const Digest& subject,
                                                    const std::optional<std::string>& artifact_type,
                                                    const std::string& last,
                                                    size_t limit) override;

 private:
  // A reader connection, returned to the pool when it goes out of scope.
  class Reader;

  SqliteMetadataStore(std::string path, std::unique_ptr<sql::Db> db)
      : path_(std::move(path)), db_(std::move(db)) {}
  Result<Reader> AcquireReader();
  // Repository id, created if needed. REQUIRES: mu_ held, inside a transaction.
  Result<int64_t> EnsureRepo(const std::string& name);

  const std::string path_;
  std::mutex mu_;
  std::unique_ptr<sql::Db> db_;  // GUARDED_BY(mu_)
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<sql::Db>> idle_readers_;  // GUARDED_BY(readers_mu_)
};

}  // namespace berth::storage
