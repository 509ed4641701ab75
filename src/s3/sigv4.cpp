#include "s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

namespace berth::s3::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 0xf]);
  }
  return out;
}

using Mac = std::array<unsigned char, 32>;

Mac HmacSha256(std::string_view key, std::string_view data) {
  Mac out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::string_view View(const Mac& m) { return {reinterpret_cast<const char*>(m.data()), m.size()}; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Leading and trailing blanks dropped, inner runs folded to one space.
std::string TrimValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char ch : v) {
    if (ch == ' ' || ch == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(ch);
  }
  return out;
}

std::string Scope(const Credentials& c, const std::string& amz_date) {
  return amz_date.substr(0, 8) + "/" + c.region + "/" + c.service + "/aws4_request";
}

// Names (lower-case) and values of the headers signed for `r`, sorted.
Params CanonicalHeaders(const Request& r) {
  Params h;
  h.reserve(r.headers.size() + 1);
  h.emplace_back("host", TrimValue(r.host));
  for (const auto& [name, value] : r.headers) h.emplace_back(Lower(name), TrimValue(value));
  std::sort(h.begin(), h.end());
  return h;
}

std::string SignedHeaderNames(const Params& canonical) {
  std::string out;
  for (const auto& [name, value] : canonical) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  return out;
}

std::string AmzDate(Clock::time_point t) {
  time_t secs = Clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

std::string CanonicalQuery(const Params& query) {
  Params encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string CanonicalRequest(const Request& r) {
  Params headers = CanonicalHeaders(r);
  std::string out = r.method;
  out.push_back('\n');
  out += UriEncode(r.path, true);
  out.push_back('\n');
  out += CanonicalQuery(r.query);
  out.push_back('\n');
  for (const auto& [name, value] : headers) {
    out += name;
    out.push_back(':');
    out += value;
    out.push_back('\n');
  }
  out.push_back('\n');
  out += SignedHeaderNames(headers);
  out.push_back('\n');
  out += r.payload_hash;
  return out;
}

std::string StringToSign(const Credentials& c, const std::string& amz_date,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.push_back('\n');
  out += amz_date;
  out.push_back('\n');
  out += Scope(c, amz_date);
  out.push_back('\n');
  out += Sha256Hex(canonical_request);
  return out;
}

std::string Signature(const Credentials& c, const std::string& amz_date,
                      std::string_view string_to_sign) {
  Mac k = HmacSha256("AWS4" + c.secret_key->reveal(), amz_date.substr(0, 8));
  k = HmacSha256(View(k), c.region);
  k = HmacSha256(View(k), c.service);
  k = HmacSha256(View(k), "aws4_request");
  Mac sig = HmacSha256(View(k), string_to_sign);
  return Hex(sig.data(), sig.size());
}

Params SignHeaders(const Request& r, const Credentials& c, Clock::time_point now) {
  std::string date = AmzDate(now);
  Request signed_request = r;
  signed_request.headers.emplace_back("x-amz-date", date);
  signed_request.headers.emplace_back("x-amz-content-sha256", r.payload_hash);
  std::string canonical = CanonicalRequest(signed_request);
  std::string signature = Signature(c, date, StringToSign(c, date, canonical));
  std::string auth(kAlgorithm);
  auth += " Credential=" + c.access_key + "/" + Scope(c, date);
  auth += ", SignedHeaders=" + SignedHeaderNames(CanonicalHeaders(signed_request));
  auth += ", Signature=" + signature;
  return {{"x-amz-date", date}, {"x-amz-content-sha256", r.payload_hash}, {"authorization", auth}};
}

std::string PresignPathAndQuery(const Request& r, const Credentials& c, Clock::time_point now,
                                int expires_seconds) {
  std::string date = AmzDate(now);
  Request q;
  q.method = r.method;
  q.host = r.host;
  q.path = r.path;
  q.query = r.query;
  q.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  q.query.emplace_back("X-Amz-Credential", c.access_key + "/" + Scope(c, date));
  q.query.emplace_back("X-Amz-Date", date);
  q.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  q.query.emplace_back("X-Amz-SignedHeaders", "host");
  q.payload_hash = std::string(kUnsignedPayload);
  std::string signature = Signature(c, date, StringToSign(c, date, CanonicalRequest(q)));
  return UriEncode(r.path, true) + "?" + CanonicalQuery(q.query) + "&X-Amz-Signature=" + signature;
}

}  // namespace berth::s3::sigv4
