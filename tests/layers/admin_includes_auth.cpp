// Compiled with berth_admin's include roots: must not compile, the admin
// commands are a client of the token server and link none of auth/
// (tests/layers/CMakeLists.txt).
#include "auth/jwt/jwt.hpp"
