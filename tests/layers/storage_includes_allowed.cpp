// Compiled with berth_storage's include roots: must compile. The control for
// the violation probes beside it: the same set-up, allowed headers only.
#include "common/result.hpp"
#include "crypto/hasher.hpp"
#include "storage/blob_store.hpp"
#include "storage/fs/layout.hpp"
