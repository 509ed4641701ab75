// The standard process_* series of Prometheus client libraries, read from
// /proc at scrape time: process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds.
//
// Thread-safety: the collector may run on any thread.
#pragma once

#include "metrics/metrics.hpp"

namespace berth::ops {

// Adds the process collector to `registry`.
void AddProcessMetrics(metrics::Registry& registry);

}  // namespace berth::ops
