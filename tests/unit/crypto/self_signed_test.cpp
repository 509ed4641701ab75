// Tests for crypto/self_signed.hpp: the files it writes, their modes, and
// that a replace leaves no temp file behind.

#include "crypto/self_signed.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>

#include "common/file.hpp"

namespace berth::crypto {
namespace {

class SelfSignedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/berth-cert-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::set<std::string> Entries() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      names.insert(e.path().filename().string());
    }
    return names;
  }

  static unsigned Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string dir_;
};

TEST_F(SelfSignedTest, WritesPemFilesWithTheirModesAndNoTempFile) {
  std::string cert = dir_ + "/tls.crt", key = dir_ + "/tls.key";
  WriteSelfSignedCertificate(cert, key, {"registry.example"});
  EXPECT_EQ(Mode(cert), 0644u);
  EXPECT_EQ(Mode(key), 0600u);
  auto c = ReadSmallFile(cert, 1 << 20);
  auto k = ReadSmallFile(key, 1 << 20);
  ASSERT_TRUE(c.ok() && k.ok());
  EXPECT_EQ(c->rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_EQ(k->rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);

  // A second run replaces both (a new key), still leaving only the two files.
  WriteSigningCertificate(cert, key, "berth token", false);
  auto k2 = ReadSmallFile(key, 1 << 20);
  ASSERT_TRUE(k2.ok());
  EXPECT_NE(*k2, *k);
  EXPECT_EQ(Entries(), (std::set<std::string>{"tls.crt", "tls.key"}));
}

TEST_F(SelfSignedTest, AMissingDirectoryThrowsNamingThePath) {
  std::string key = dir_ + "/missing/tls.key";
  try {
    WriteSelfSignedCertificate(dir_ + "/missing/tls.crt", key, {});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace berth::crypto
