// FUZZ_CHECK: the fuzz targets' assertion. A property that fails is a bug
// the fuzzer must report, so it aborts (libFuzzer then saves the input as a
// crash-* file) rather than throwing or returning.
//
// Thread-safety: stateless.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
