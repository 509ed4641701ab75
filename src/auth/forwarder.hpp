// The header by which a registry in the same process (`berth serve`) tells
// the token server the browser's address for the web interface's logins. Its
// value is a per-process key (TokenServiceOptions::forwarder_key); a request
// without the right key is not believed. Here, apart from the token service,
// so that the interface's token client needs only berth_auth_api.
#pragma once

#include <string_view>

namespace berth::auth {

inline constexpr std::string_view kForwarderHeader = "X-Berth-Forwarder";

}  // namespace berth::auth
