#include "ops/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace berth::ops {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_time = 0;  // Unix seconds
  double virtual_bytes = 0;
  double resident_bytes = 0;
  bool ok = false;
};

double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

ProcStat ReadStat() {
  ProcStat p;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return p;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return p;
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  // f[0] is field 3 (state); field N is f[N - 3].
  if (f.size() < 22) return p;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  p.cpu_seconds = (std::stod(f[14 - 3]) + std::stod(f[15 - 3])) / tick;
  p.start_time = BootTime() + std::stod(f[22 - 3]) / tick;
  p.virtual_bytes = std::stod(f[23 - 3]);
  p.resident_bytes = std::stod(f[24 - 3]) * page;
  p.ok = true;
  return p;
}

double OpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return 0;
  double n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

void AddProcessMetrics(metrics::Registry& registry) {
  registry.AddCollector([](metrics::Writer& w) {
    ProcStat p = ReadStat();
    if (p.ok) {
      w.Begin("process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
              "counter");
      w.Sample("process_cpu_seconds_total", p.cpu_seconds);
      w.Begin("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
      w.Sample("process_resident_memory_bytes", p.resident_bytes);
      w.Begin("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
      w.Sample("process_virtual_memory_bytes", p.virtual_bytes);
      w.Begin("process_start_time_seconds",
              "Start time of the process since the Unix epoch, in seconds.", "gauge");
      w.Sample("process_start_time_seconds", p.start_time);
    }
    w.Begin("process_open_fds", "Open file descriptors.", "gauge");
    w.Sample("process_open_fds", OpenFds());
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
      w.Begin("process_max_fds", "Limit of open file descriptors.", "gauge");
      w.Sample("process_max_fds", static_cast<double>(lim.rlim_cur));
    }
  });
}

}  // namespace berth::ops
