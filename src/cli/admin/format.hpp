// Human-readable output helpers for the admin commands: sizes in binary
// units as the quota messages print them ("9.8 GiB"), and aligned tables.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth::cli::admin {

// `bytes` in B, KiB, MiB, GiB, TiB or PiB with one decimal ("512 B",
// "1.0 KiB", "9.8 GiB").
std::string HumanBytes(uint64_t bytes);

// `rows` (the first one the heading) as lines with the columns padded to
// their widest cell and two spaces between them; cells named in
// `right_aligned` (column indexes) are aligned right, as numbers read best.
std::string Table(const std::vector<std::vector<std::string>>& rows,
                  const std::vector<size_t>& right_aligned = {});

}  // namespace berth::cli::admin
