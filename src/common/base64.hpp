// Base64 (RFC 4648) as JOSE and HTTP use it: base64url without padding
// (RFC 7515 §2) for JWS parts and JWK thumbprints, standard base64 with
// padding for x5c certificates (RFC 7515 §4.1.6) and Basic credentials.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth {

std::string Base64UrlEncode(std::string_view bytes);
// nullopt when `text` is not unpadded base64url.
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet, padding optional. nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace berth
