// Fuzz target for auth/keystone/keystone_protocol: what berth makes of
// Keystone's answer to a login (status and body) and of the configured URL.
// Input: one byte picking the status and whether a project is configured,
// then the body. The property that matters: nothing but a 201 with a token
// object ever logs a user in, and admin needs a project.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/keystone/keystone_authenticator.hpp"
#include "auth/keystone/keystone_protocol.hpp"
#include "fuzz_check.hpp"

namespace ks = berth::auth::keystone;
using berth::auth::AuthOutcome;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Mostly 201, the only answer whose body is read; the rest covers the
  // status table, including codes Keystone never sends.
  static constexpr long kStatuses[] = {201, 201, 201, 201, 200, 400, 401, 403,
                                       404, 500, 503, 0,   -1,  204, 302, 201};
  const long status = kStatuses[data[0] & 15];
  berth::auth::KeystoneOptions options;
  options.url = "http://keystone.invalid:5000/v3";
  if (data[0] & 16) options.project = "registry";
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  auto r = ks::InterpretAuthResponse(options, "alice", status, body);
  if (r.outcome == AuthOutcome::kOk) {
    FUZZ_CHECK(status == 201);
    FUZZ_CHECK(r.identity.name == "alice" && r.identity.authenticated);
  }
  if (r.identity.admin) FUZZ_CHECK(!options.project.empty() && r.outcome == AuthOutcome::kOk);
  if (status != 201) FUZZ_CHECK(r.outcome != AuthOutcome::kOk);

  // The same bytes as a configured URL: a login URL, when one comes out,
  // is http(s) and ends with the tokens path.
  auto url = ks::TokensUrl(body);
  if (url) {
    // Schemes are case-insensitive (RFC 3986 §3.1); TokensUrl keeps the case.
    std::string scheme = url->substr(0, url->find("://"));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    FUZZ_CHECK(scheme == "http" || scheme == "https");
    FUZZ_CHECK(url->ends_with("/v3/auth/tokens?nocatalog"));
  }
  return 0;
}
