// Identity: who a request is, as the token server established it.
//
// Thread-safety: a plain value.
#pragma once

#include <string>

namespace berth::auth {

struct Identity {
  std::string name;            // empty for an anonymous client
  bool admin = false;          // from the admin list or the Keystone admin role
  bool authenticated = false;  // false: anonymous
};

}  // namespace berth::auth
