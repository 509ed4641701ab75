// Compiled with berth_registry's include roots: must not compile, the
// registry links auth's interfaces (berth_auth_api), not the JWT gate.
#include "auth/bearer/bearer.hpp"
