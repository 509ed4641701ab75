// The web interface's files as compiled into the binary: a table that
// cmake/embed_files.cmake generates from the top-level ui/ folder at build
// time. Read it through assets.hpp.
//
// Thread-safety: constant data.
#pragma once

#include <cstddef>

namespace berth::ui {

struct EmbeddedFile {
  const char* name;           // path under ui/, e.g. "app.js"
  const unsigned char* data;  // `size` bytes (plus a 0 after them)
  size_t size;
};

extern const EmbeddedFile kEmbedded[];
extern const size_t kEmbeddedCount;

}  // namespace berth::ui
