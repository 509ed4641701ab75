#include "ui/assets.hpp"

#include "ui/embedded.hpp"

namespace berth::ui {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Asset Make(const EmbeddedFile& f) {
  return {f.name, ContentTypeFor(f.name),
          std::string_view(reinterpret_cast<const char*>(f.data), f.size)};
}

}  // namespace

std::string_view ContentTypeFor(std::string_view name) {
  if (EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(name, ".svg")) return "image/svg+xml";
  if (EndsWith(name, ".png")) return "image/png";
  return "application/octet-stream";
}

std::optional<Asset> FindAsset(std::string_view name) {
  if (name.empty()) name = "index.html";
  for (size_t i = 0; i < kEmbeddedCount; ++i) {
    if (kEmbedded[i].name == name) return Make(kEmbedded[i]);
  }
  return std::nullopt;
}

std::vector<Asset> AllAssets() {
  std::vector<Asset> out;
  for (size_t i = 0; i < kEmbeddedCount; ++i) out.push_back(Make(kEmbedded[i]));
  return out;
}

void AddSecurityHeaders(http::Response& r, std::string_view cache) {
  r.Set("Content-Security-Policy", std::string(kContentSecurityPolicy));
  r.Set("X-Frame-Options", "DENY");
  r.Set("X-Content-Type-Options", "nosniff");
  r.Set("Referrer-Policy", "no-referrer");
  r.Set("Cache-Control", std::string(cache));
}

http::Response AssetResponse(const Asset& asset, bool head) {
  http::Response r;
  r.status = 200;
  r.Set("Content-Type", std::string(asset.content_type));
  AddSecurityHeaders(r, "no-cache");
  if (head) {
    r.head_length = asset.body.size();
  } else {
    r.body = std::string(asset.body);
  }
  return r;
}

}  // namespace berth::ui
