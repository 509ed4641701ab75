#include "common/digest.hpp"

#include <algorithm>

namespace berth {
namespace {

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The OCI grammar for an algorithm component: [a-z0-9]+ ([+._-][a-z0-9]+)*.
bool IsAlgorithmGrammar(std::string_view s) {
  if (s.empty()) return false;
  bool need_alnum = true;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) {
      need_alnum = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      if (need_alnum) return false;
      need_alnum = true;
    } else {
      return false;
    }
  }
  return !need_alnum;
}

}  // namespace

Digest::Digest(DigestAlgorithm algorithm, std::string hex)
    : algorithm_(algorithm), hex_(std::move(hex)) {}

Result<Digest> Digest::Parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Status(Errc::kDigestInvalid, "digest must look like algorithm:hex");
  }
  std::string_view algo = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  if (!IsAlgorithmGrammar(algo)) {
    return Status(Errc::kDigestInvalid, "invalid digest algorithm");
  }
  DigestAlgorithm a;
  size_t want;
  if (algo == "sha256") {
    a = DigestAlgorithm::kSha256;
    want = 64;
  } else if (algo == "sha512") {
    a = DigestAlgorithm::kSha512;
    want = 128;
  } else {
    return Status(Errc::kDigestInvalid, "unsupported digest algorithm (use sha256 or sha512)");
  }
  if (hex.size() != want || !IsLowerHex(hex)) {
    return Status(Errc::kDigestInvalid, "digest must have " + std::to_string(want) +
                                            " lower-case hex characters after '" +
                                            std::string(algo) + ":'");
  }
  return Digest(a, std::string(hex));
}

std::string_view Digest::algorithm_name() const {
  return algorithm_ == DigestAlgorithm::kSha256 ? "sha256" : "sha512";
}

std::string Digest::str() const {
  std::string s(algorithm_name());
  s += ':';
  s += hex_;
  return s;
}

}  // namespace berth
