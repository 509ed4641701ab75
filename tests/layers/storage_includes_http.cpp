// Compiled with berth_storage's include roots: must not compile, storage
// does not link berth_http (tests/layers/CMakeLists.txt).
#include "http/server.hpp"
