// `berth fsck`: prints what storage::RunFsck finds, as JSON lines.
#include <boost/json.hpp>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/setup.hpp"
#include "storage/db/fsck.hpp"

namespace berth::cli {

int Fsck(const std::string& config_path, bool repair) {
  auto loaded = LoadConfigOrReport(config_path);
  if (!loaded) return 2;
  config::Config c = std::move(*loaded);
  auto print = [](const boost::json::object& o) {
    std::printf("%s\n", boost::json::serialize(o).c_str());
    std::fflush(stdout);
  };
  auto sum = storage::RunFsck(c.storage.root, repair, [&](const storage::FsckProblem& p) {
    print({{"problem", p.kind},
           {"subject", p.subject},
           {"detail", p.detail},
           {"repaired", p.repaired}});
  });
  if (!sum) {
    std::fprintf(stderr, "berth fsck: %s\n", sum.status().message().c_str());
    return 3;
  }
  print({{"summary", true},
         {"blobs_checked", sum->blobs_checked},
         {"bytes_checked", sum->bytes_checked},
         {"rows_checked", sum->rows_checked},
         {"problems", sum->problems},
         {"repaired", sum->repaired}});
  return sum->problems == 0 ? 0 : 1;
}

}  // namespace berth::cli
