// Fuzz target for auth/htpasswd: HtpasswdFile::Parse reads an operator's
// file, whatever an editor or another tool left in it. Parsing never fails,
// so the properties are about what it keeps: every user is a valid name
// with a bcrypt hash, a rewrite (Serialize, as `berth user` does) keeps the
// same users and hashes, and Remove takes a user out.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/htpasswd/htpasswd_file.hpp"
#include "crypto/bcrypt.hpp"
#include "fuzz_check.hpp"

using berth::auth::HtpasswdFile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  HtpasswdFile file = HtpasswdFile::Parse(text);
  const auto users = file.Users();
  for (const auto& u : users) {
    FUZZ_CHECK(berth::auth::ValidateUserName(u).ok());
    FUZZ_CHECK(file.Contains(u));
    const std::string* hash = file.FindHash(u);
    FUZZ_CHECK(hash != nullptr && berth::crypto::IsBcryptHash(*hash));
  }

  HtpasswdFile reread = HtpasswdFile::Parse(file.Serialize());
  FUZZ_CHECK(reread.Users() == users);
  for (const auto& u : users) FUZZ_CHECK(*reread.FindHash(u) == *file.FindHash(u));
  // A rewrite of a rewrite is stable (the first may drop a '\r').
  FUZZ_CHECK(HtpasswdFile::Parse(reread.Serialize()).Serialize() == reread.Serialize());

  if (!users.empty()) {
    FUZZ_CHECK(reread.Remove(users.front()));
    FUZZ_CHECK(!reread.Contains(users.front()));
    FUZZ_CHECK(reread.Users().size() == users.size() - 1);
  }
  return 0;
}
