// `berth migrate-store`: copies a filesystem + SQLite storage root into the
// stores the configuration names (storage/migrate/migrate_store.hpp has the
// rules). Progress and problems on stderr, one JSON summary line on stdout.
#include <boost/json.hpp>
#include <chrono>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "cli/commands.hpp"
#include "cli/setup.hpp"
#include "cli/stores.hpp"
#include "storage/fs/layout.hpp"
#include "storage/migrate/migrate_store.hpp"

namespace berth::cli {
namespace {

std::string Bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

bool SameDirectory(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  auto ca = std::filesystem::weakly_canonical(a, ea);
  auto cb = std::filesystem::weakly_canonical(b, eb);
  return !ea && !eb && ca == cb;
}

}  // namespace

int MigrateStore(const std::string& config_path, const std::string& from, bool verify, int jobs) {
  auto loaded = LoadConfigOrReport(config_path);
  if (!loaded) return 2;
  config::Config c = std::move(*loaded);
  // Stdout carries only the JSON summary: logs of the stores go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("migrate-store"));
  const bool local_target = c.storage.driver == "filesystem" || c.metadata.driver == "sqlite";
  if (local_target && SameDirectory(c.storage.root, from)) {
    std::fprintf(stderr, "berth migrate-store: the target's storage.root is the source (%s)\n",
                 from.c_str());
    return 2;
  }
  if (!std::filesystem::exists(storage::layout::MetadataDb(from))) {
    std::fprintf(stderr, "berth migrate-store: %s/metadata.db does not exist\n", from.c_str());
    return 2;
  }
  RegistryStores stores;
  try {
    if (local_target) PrepareRoot(c.storage.root);
    stores = OpenRegistryStores(c, /*wait_for_lock=*/false);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "berth: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "berth migrate-store: target: %s\n", e.what());
    return 3;
  }

  storage::migrate::MigrateOptions options;
  options.jobs = jobs;
  options.verify = verify;
  // At most one progress line a second, and the last one of each phase.
  auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto progress = [&](const storage::migrate::MigrateProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (p.done != p.total && now - last < std::chrono::seconds(1)) return;
    last = now;
    if (p.bytes > 0) {
      std::fprintf(stderr, "%s %llu/%llu, %s\n", p.phase, static_cast<unsigned long long>(p.done),
                   static_cast<unsigned long long>(p.total), Bytes(p.bytes).c_str());
    } else {
      std::fprintf(stderr, "%s %llu/%llu\n", p.phase, static_cast<unsigned long long>(p.done),
                   static_cast<unsigned long long>(p.total));
    }
  };
  auto problem = [](const storage::migrate::MigrateProblem& p) {
    std::fprintf(stderr, "berth migrate-store: %s %s: %s\n", p.kind.c_str(), p.subject.c_str(),
                 p.detail.c_str());
  };
  storage::migrate::MigrateTarget target{stores.blobs(), stores.uploads(), stores.meta()};
  auto report = storage::migrate::MigrateStore(from, target, options, problem, progress);
  if (!report) {
    std::fprintf(stderr, "berth migrate-store: %s\n", report.status().message().c_str());
    return 3;
  }
  const auto& r = *report;
  boost::json::object o{{"blobs_total", r.blobs_total},
                        {"blobs_copied", r.blobs_copied},
                        {"blobs_skipped", r.blobs_skipped},
                        {"blobs_bad", r.blobs_bad},
                        {"bytes_copied", r.bytes_copied},
                        {"bytes_total", r.bytes_total},
                        {"unlinked_blobs_ignored", r.unlinked_blobs},
                        {"links_new", r.links_new},
                        {"links_existing", r.links_existing},
                        {"manifests_new", r.manifests_new},
                        {"manifests_existing", r.manifests_existing},
                        {"tags_new", r.tags_new},
                        {"tags_existing", r.tags_existing},
                        {"problems", r.problems},
                        {"verify_failures", r.verify_failures},
                        {"seconds", r.seconds},
                        {"ok", r.ok()}};
  std::printf("%s\n", boost::json::serialize(o).c_str());
  std::fflush(stdout);
  return r.ok() ? 0 : 1;
}

}  // namespace berth::cli
