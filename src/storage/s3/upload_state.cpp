#include "storage/s3/upload_state.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>

#include "crypto/hasher.hpp"

namespace berth::storage {

namespace {

std::optional<uint64_t> GetU64(const boost::json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  if (!v) return std::nullopt;
  if (const auto* u = v->if_uint64()) return *u;
  if (const auto* i = v->if_int64(); i && *i >= 0) return static_cast<uint64_t>(*i);
  return std::nullopt;
}

std::optional<std::string> GetString(const boost::json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : hex.substr(i, 2)) {
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else
        return std::nullopt;
    }
    out += static_cast<char>(v);
  }
  return out;
}

}  // namespace

std::string EncodeUploadState(const UploadState& s) {
  boost::json::array parts;
  for (const auto& p : s.parts) parts.push_back(boost::json::array{p.number, p.etag, p.size});
  const auto* h = reinterpret_cast<const unsigned char*>(s.hash.data());
  boost::json::object o{{"version", 1},
                        {"repository", s.repository},
                        {"size", s.size},
                        {"parts", std::move(parts)},
                        {"hash", crypto::ToHex({h, s.hash.size()})},
                        {"tail", s.tail},
                        {"generation", s.generation},
                        {"upload_id", s.upload_id},
                        {"created", s.created},
                        {"updated", s.updated}};
  return boost::json::serialize(o);
}

Result<UploadState> DecodeUploadState(std::string_view text, const std::string& id) {
  auto bad = [&](const std::string& what) {
    return Status(Errc::kInternal, "upload " + id + ": corrupt state object (" + what + ")");
  };
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const auto& o = v.get_object();
  UploadState s;
  auto version = GetU64(o, "version");
  auto repository = GetString(o, "repository");
  auto size = GetU64(o, "size");
  auto hash = GetString(o, "hash");
  auto tail = GetU64(o, "tail");
  auto generation = GetU64(o, "generation");
  auto upload_id = GetString(o, "upload_id");
  auto created = GetU64(o, "created");
  auto updated = GetU64(o, "updated");
  const auto* parts = o.if_contains("parts");
  if (!version || *version != 1) return bad("unknown version");
  if (!repository || repository->empty() || !size || !hash || !tail || !generation || !upload_id ||
      !created || !updated || !parts || !parts->is_array()) {
    return bad("missing field");
  }
  auto raw_hash = FromHex(*hash);
  if (!raw_hash) return bad("hash");
  s.repository = *repository;
  s.size = *size;
  s.hash = std::move(*raw_hash);
  s.tail = *tail;
  s.generation = *generation;
  s.upload_id = *upload_id;
  s.created = static_cast<int64_t>(*created);
  s.updated = static_cast<int64_t>(*updated);
  uint64_t sum = 0;
  for (const auto& pv : parts->get_array()) {
    const auto* pa = pv.if_array();
    if (!pa || pa->size() != 3 || !(*pa)[1].is_string()) return bad("part");
    UploadPart p;
    const auto& n = (*pa)[0];
    const auto& sz = (*pa)[2];
    if (n.is_int64())
      p.number = static_cast<int>(std::clamp<int64_t>(n.get_int64(), -1, kS3MaxParts + 1));
    else if (n.is_uint64())
      p.number = static_cast<int>(std::min<uint64_t>(n.get_uint64(), kS3MaxParts + 1));
    else
      return bad("part number");
    if (sz.is_uint64())
      p.size = sz.get_uint64();
    else if (sz.is_int64() && sz.get_int64() >= 0)
      p.size = static_cast<uint64_t>(sz.get_int64());
    else
      return bad("part size");
    p.etag = std::string((*pa)[1].get_string());
    if (p.number != static_cast<int>(s.parts.size()) + 1 || p.etag.empty() || p.etag.size() > 256 ||
        p.size < kS3MinPartSize || p.size > kS3MaxCopySize) {
      return bad("part " + std::to_string(s.parts.size() + 1));
    }
    sum += p.size;
    s.parts.push_back(std::move(p));
  }
  if (sum > s.size || s.size - sum != s.tail) return bad("sizes do not add up");
  if (!s.parts.empty() && s.upload_id.empty()) return bad("parts without an upload id");
  if (s.upload_id.size() > 1024) return bad("upload id");
  return s;
}

}  // namespace berth::storage
