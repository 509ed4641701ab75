// Compiled with berth_http's include roots: must not compile, transport does
// not link storage.
#include "storage/blob_store.hpp"
