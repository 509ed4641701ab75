// The web interface's static files (HTML, CSS, JS under ui/), looked up by
// request path, and the security headers every UI answer carries.
//
// Thread-safety: pure functions over constant data.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace berth::ui {

struct Asset {
  std::string_view name;          // "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

// The file a path under /ui/ names: "" and "index.html" give the page,
// "app.js" the script. nullopt for anything else, including names with
// "..", '/' or a query (the table is flat).
std::optional<Asset> FindAsset(std::string_view name);

// Every embedded file, for size reports.
std::vector<Asset> AllAssets();

// The content type for a file name by its extension; application/octet-stream
// for an unknown one.
std::string_view ContentTypeFor(std::string_view name);

// The Content-Security-Policy of every UI answer: only this origin's own
// scripts, styles and connections; no inline code, no frames, no plugins.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// Adds CSP, X-Frame-Options DENY, X-Content-Type-Options nosniff,
// Referrer-Policy no-referrer and Cache-Control (`cache`, e.g. "no-store").
void AddSecurityHeaders(http::Response& response, std::string_view cache);

// 200 with the asset, its type and the security headers (no-cache: the
// browser revalidates, so a new binary's files show at once).
http::Response AssetResponse(const Asset& asset, bool head);

}  // namespace berth::ui
