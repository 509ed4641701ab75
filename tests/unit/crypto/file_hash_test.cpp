// Tests for crypto/file_hash.hpp: the loop that hashes a file read back.

#include "crypto/file_hash.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/file.hpp"

namespace berth::crypto {
namespace {

class FileHashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/berth-hash-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& data) {
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(ReplaceFileAtomic(path, data).ok());
    return path;
  }

  std::string dir_;
};

TEST_F(FileHashTest, EmptyFile) {
  std::string path = Write("empty", "");
  uint64_t bytes = 0;
  auto d = HashFile(path, DigestAlgorithm::kSha256, &bytes);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(bytes, 0u);
}

// Larger than the 1 MiB read buffer, and not a multiple of it.
TEST_F(FileHashTest, LargeFileMatchesHashBytes) {
  std::string data;
  for (size_t i = 0; i < (3u << 20) + 7; ++i) data.push_back(static_cast<char>(i * 31 % 251));
  std::string path = Write("large", data);
  for (auto algorithm : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512}) {
    uint64_t bytes = 5;  // added to, not overwritten
    auto d = HashFile(path, algorithm, &bytes);
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(*d, HashBytes(algorithm, data));
    EXPECT_EQ(bytes, data.size() + 5);
  }
}

TEST_F(FileHashTest, HashFdHashesAPrefixAndKeepsTheOffset) {
  std::string path = Write("f", "hello world");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  auto h = HashFd(fd.get(), DigestAlgorithm::kSha256, 5, "f");
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->Peek(), HashBytes(DigestAlgorithm::kSha256, "hello"));
  h->Update(std::string_view(" world"));  // the hasher goes on
  EXPECT_EQ(h->Peek(), HashBytes(DigestAlgorithm::kSha256, "hello world"));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 0);
}

TEST_F(FileHashTest, HashFdOfAShortFileFails) {
  std::string path = Write("f", "abc");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto h = HashFd(fd.get(), DigestAlgorithm::kSha256, 4, "upload x");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "upload x: file shorter than expected");
}

TEST_F(FileHashTest, MissingFileNamesThePath) {
  auto d = HashFile(dir_ + "/none", DigestAlgorithm::kSha256);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find(dir_ + "/none"), std::string::npos);
}

}  // namespace
}  // namespace berth::crypto
