// `berth serve`, `berth registry` and `berth init`: wire the concrete stores,
// the registry and the HTTP runtime together. The only place that knows
// which implementations are used.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <sys/stat.h>

#include "cli/commands.hpp"
#include "cli/setup.hpp"
#include "http/server.hpp"
#include "registry/registry.hpp"
#include "storage/db/sqlite_metadata_store.hpp"
#include "storage/fs/dir_lock.hpp"
#include "storage/fs/fs_blob_store.hpp"
#include "storage/fs/fs_upload_store.hpp"
#include "storage/fs/layout.hpp"

namespace berth::cli {

int Serve(const std::string& config_path) {
  config::Config c;
  try {
    c = LoadConfig(config_path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 2;
  }
  SetUpLogging(c);
  try {
    PrepareRoot(c.storage.root);
    auto lock = storage::DirLock::TryAcquire(c.storage.root);
    if (!lock) {
      spdlog::critical("{}", lock.status().message());
      return 1;
    }
    PrepareTls(c);
    storage::FsBlobStore blobs(c.storage.root);
    storage::FsUploadStore uploads(c.storage.root, blobs);
    auto meta = storage::SqliteMetadataStore::Open(storage::layout::MetadataDb(c.storage.root));
    if (!meta) {
      spdlog::critical("cannot open metadata: {}", meta.status().message());
      return 1;
    }
    registry::Registry reg(blobs, uploads, **meta,
                           registry::Options{c.registry.max_manifest_bytes, 0});

    http::Limits limits;
    limits.header_timeout = std::chrono::seconds(c.http.header_timeout);
    limits.body_timeout = std::chrono::seconds(c.http.body_timeout);
    limits.write_timeout = std::chrono::seconds(c.http.write_timeout);
    limits.max_header_bytes = c.http.max_header_bytes;
    limits.max_connections = c.http.max_connections;
    http::Runtime runtime(static_cast<int>(c.http.io_threads),
                          static_cast<int>(c.http.blocking_threads),
                          std::chrono::seconds(c.http.shutdown_grace));
    http::ListenerOptions lo;
    lo.name = "registry";
    lo.address = c.registry.addr;
    lo.port = static_cast<uint16_t>(c.registry.port);
    lo.tls = c.tls.enabled;
    lo.cert_file = c.tls.cert;
    lo.key_file = c.tls.key;
    runtime.AddListener(lo, limits, reg);
    spdlog::info("berth serving; storage root {}", c.storage.root);
    PrintTrustHelp(c);
    runtime.Run();
    return 0;
  } catch (const config::ConfigError& e) {
    spdlog::critical("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("start-up failed: {}", e.what());
    return 1;
  }
}

int Init(const std::string& config_path) {
  std::string path = config_path.empty() ? "berth.yaml" : config_path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    std::ofstream(path) << config::DefaultYaml();
    std::printf("wrote %s\n", path.c_str());
  }
  try {
    config::Config c = LoadConfig(path);
    SetUpLogging(c);
    PrepareRoot(c.storage.root);
    PrepareTls(c);
    PrintTrustHelp(c);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace berth::cli
