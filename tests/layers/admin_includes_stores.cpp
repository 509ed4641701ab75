// Compiled with berth_admin's include roots: must not compile, the admin
// commands link only the storage root's file names (berth_storage_layout),
// not the stores (tests/layers/CMakeLists.txt).
#include "storage/fs/fs_blob_store.hpp"
