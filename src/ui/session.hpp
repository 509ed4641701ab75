// The web interface's session: an HttpOnly cookie that carries the token
// server's refresh token (never readable by script), the CSRF token derived
// from it, and the checks every state-changing request must pass.
//
// The CSRF token is SHA-256 of a fixed label and the refresh token: the page
// learns it from GET /ui/api/session (same-origin only, by CORS) and sends it
// in X-CSRF-Token; another site can neither read it nor guess it. With
// SameSite=Strict and the Origin check that makes three independent fences.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/message.hpp"

namespace berth::ui {

inline constexpr std::string_view kCookieName = "berth_ui";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
std::optional<std::string_view> CookieValue(std::string_view header, std::string_view name);

// The session in the request's Cookie header: a refresh token of 1 to 512
// characters of [A-Za-z0-9._~+/=-]; nullopt when absent or malformed.
std::optional<std::string> SessionFrom(const http::Request& request);

// The Set-Cookie value that starts a session of `max_age` seconds:
// HttpOnly, SameSite=Strict, Path=/ui/, and Secure when `secure` (TLS).
std::string SessionCookie(std::string_view token, int64_t max_age, bool secure);

// The Set-Cookie value that ends the session (empty value, Max-Age=0).
std::string ClearedCookie(bool secure);

// The CSRF token of a session (64 hex characters).
std::string CsrfToken(std::string_view session);

// Whether the request comes from this origin: an Origin header, when sent,
// must be "https://<Host>" ("http://" without TLS); a Sec-Fetch-Site header,
// when sent, must be "same-origin". kDenied with the reason otherwise.
Status CheckOrigin(const http::Request& request, bool secure);

// CheckOrigin, and X-CSRF-Token equal (constant-time) to CsrfToken(session).
// kDenied with the reason otherwise.
Status CheckStateChange(const http::Request& request, std::string_view session, bool secure);

}  // namespace berth::ui
