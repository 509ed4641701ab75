// Fuzz target for common/names and common/digest: the grammars that stand
// between a URL and a path in the store. Each hand-written validator is
// checked against the regular expression its header documents, and every
// accepted value against the property the store relies on (no "..", no
// empty component, a digest that prints back as it was read).

#include <cstddef>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <variant>

#include "common/digest.hpp"
#include "common/names.hpp"
#include "fuzz_check.hpp"

namespace {

// The grammars exactly as names.hpp and digest.hpp state them.
const std::regex& NameRegex() {
  static const std::regex re(
      R"([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*)");
  return re;
}
const std::regex& TagRegex() {
  static const std::regex re(R"([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})");
  return re;
}
const std::regex& DigestRegex() {
  static const std::regex re(R"(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})");
  return re;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  const bool name_ok = berth::ValidateRepositoryName(text).ok();
  // std::regex recurses per character; the length cap makes longer names
  // invalid anyway, so only compare within it.
  if (text.size() <= berth::kMaxRepositoryNameLength) {
    FUZZ_CHECK(name_ok == std::regex_match(text, NameRegex()));
  } else {
    FUZZ_CHECK(!name_ok);
  }
  if (name_ok) {
    FUZZ_CHECK(text.find("..") == std::string::npos);
    FUZZ_CHECK(text.find("//") == std::string::npos);
    FUZZ_CHECK(text.front() != '/' && text.back() != '/');
  }

  const bool tag_ok = berth::ValidateTag(text).ok();
  if (text.size() <= 129)
    FUZZ_CHECK(tag_ok == std::regex_match(text, TagRegex()));
  else
    FUZZ_CHECK(!tag_ok);

  auto digest = berth::Digest::Parse(text);
  if (text.size() <= 135) FUZZ_CHECK(digest.ok() == std::regex_match(text, DigestRegex()));
  if (digest) {
    FUZZ_CHECK(digest->str() == text);
    auto again = berth::Digest::Parse(digest->str());
    FUZZ_CHECK(again && *again == *digest);
  }

  auto ref = berth::ParseReference(text);
  if (ref) {
    if (const auto* tag = std::get_if<std::string>(&*ref)) {
      FUZZ_CHECK(tag_ok && *tag == text);
    } else {
      FUZZ_CHECK(digest && std::get<berth::Digest>(*ref) == *digest);
    }
  } else {
    FUZZ_CHECK(!tag_ok && !digest);
  }
  return 0;
}
