// Tests for the POSIX file layer (common/file.hpp): errors name the path,
// atomic replace leaves no temp file behind and keeps the old content when
// it fails, reads are bounded.

#include "common/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <set>
#include <string>

namespace berth {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/berth-file-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    ::chmod(dir_.c_str(), 0700);
    std::filesystem::remove_all(dir_);
  }

  std::set<std::string> Entries() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      names.insert(e.path().filename().string());
    }
    return names;
  }

  static std::string Contents(const std::string& path) {
    auto r = ReadSmallFile(path, 1 << 20);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : "";
  }

  std::string dir_;
};

TEST(PosixErrorTest, MapsErrnoAndKeepsTheContext) {
  struct Case {
    int err;
    Errc code;
  } cases[] = {
      {ENOSPC, Errc::kNoSpace},     {EDQUOT, Errc::kNoSpace},
      {ENOENT, Errc::kBlobUnknown},  // the caller's not_found
      {EACCES, Errc::kInternal},    {EIO, Errc::kInternal},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.err);
    Status s = PosixError("open /some/path", c.err, Errc::kBlobUnknown);
    EXPECT_EQ(s.code(), c.code);
    EXPECT_NE(s.message().find("open /some/path: "), std::string::npos) << s.message();
  }
  EXPECT_EQ(PosixError("x", ENOENT).code(), Errc::kInternal);  // the default
}

TEST_F(FileTest, UniqueFdClosesReleasesAndMoves) {
  int raw = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT: moved-from state is specified
    EXPECT_EQ(b.get(), raw);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);  // closed by the destructor
  EXPECT_EQ(errno, EBADF);

  raw = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    EXPECT_EQ(a.Release(), raw);
    EXPECT_FALSE(a.valid());
  }
  EXPECT_NE(::fcntl(raw, F_GETFD), -1);  // still open: released, not closed
  UniqueFd owner(raw);
  EXPECT_TRUE(owner.Close("dir").ok());
  EXPECT_FALSE(owner.valid());
  EXPECT_TRUE(owner.Close("dir").ok());  // nothing left to close
}

TEST_F(FileTest, CloseReportsTheErrorWithTheContext) {
  int raw = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  ASSERT_EQ(::close(raw), 0);
  UniqueFd stale(raw);  // already closed: close() fails with EBADF
  Status s = stale.Close("the file");
  EXPECT_EQ(s.code(), Errc::kInternal);
  EXPECT_NE(s.message().find("close the file"), std::string::npos) << s.message();
}

TEST_F(FileTest, WriteAllWritesEverythingAndNamesTheFileOnError) {
  std::string path = dir_ + "/f";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd.valid());
  std::string big(3 << 20, 'z');
  ASSERT_TRUE(WriteAll(fd.get(), big, path).ok());
  ASSERT_TRUE(WriteAll(fd.get(), "tail", 4, path).ok());
  EXPECT_EQ(std::filesystem::file_size(path), big.size() + 4);

  UniqueFd read_only(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  Status s = WriteAll(read_only.get(), "x", path);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("write " + path + ": "), std::string::npos) << s.message();
}

TEST_F(FileTest, WriteAllAtWritesAtTheOffset) {
  std::string path = dir_ + "/f";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd.valid());
  ASSERT_TRUE(WriteAll(fd.get(), "abcdef", path).ok());
  ASSERT_TRUE(WriteAllAt(fd.get(), "XY", 2, 2, path).ok());
  ASSERT_TRUE(WriteAll(fd.get(), "g", path).ok());  // the offset did not move
  EXPECT_EQ(Contents(path), "abXYefg");
}

TEST_F(FileTest, SyncDirAndEnsureDir) {
  EXPECT_TRUE(SyncDir(dir_).ok());
  Status missing = SyncDir(dir_ + "/nope");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find(dir_ + "/nope"), std::string::npos) << missing.message();

  std::string sub = dir_ + "/sub";
  ASSERT_TRUE(EnsureDir(sub, dir_).ok());
  EXPECT_TRUE(std::filesystem::is_directory(sub));
  EXPECT_TRUE(EnsureDir(sub, dir_).ok());  // already there
  Status deep = EnsureDir(dir_ + "/a/b", dir_ + "/a");
  EXPECT_FALSE(deep.ok());
  EXPECT_NE(deep.message().find("mkdir " + dir_ + "/a/b"), std::string::npos) << deep.message();
}

TEST_F(FileTest, ReplaceFileAtomicLeavesNoTempFileBehind) {
  std::string path = dir_ + "/config";
  ASSERT_TRUE(ReplaceFileAtomic(path, "first\n", 0644).ok());
  EXPECT_EQ(Contents(path), "first\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  ASSERT_TRUE(ReplaceFileAtomic(path, "second\n").ok());
  EXPECT_EQ(Contents(path), "second\n");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);  // the default mode
  EXPECT_EQ(Entries(), std::set<std::string>{"config"});

  ASSERT_TRUE(ReplaceFileAtomic(path, "").ok());
  EXPECT_EQ(Contents(path), "");
}

TEST_F(FileTest, ReplaceFileAtomicInAMissingDirectoryNamesThePath) {
  std::string path = dir_ + "/missing/config";
  Status s = ReplaceFileAtomic(path, "x", 0600, Errc::kNotFound);
  EXPECT_EQ(s.code(), Errc::kNotFound);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

// A write that fails half way (the file size limit, which binds root too,
// so the test runs under any user) leaves the old content and no temp file.
TEST_F(FileTest, ReplaceFileAtomicKeepsTheOldContentWhenAWriteFails) {
  std::string path = dir_ + "/config";
  ASSERT_TRUE(ReplaceFileAtomic(path, "old").ok());

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
  rlimit small = saved;
  small.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s = ReplaceFileAtomic(path, std::string(4096, 'n'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path + ".tmp."), std::string::npos) << s.message();
  EXPECT_EQ(Contents(path), "old");
  EXPECT_EQ(Entries(), std::set<std::string>{"config"});
}

TEST_F(FileTest, ReplaceFileAtomicInAReadOnlyDirectoryKeepsTheOldContent) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  std::string path = dir_ + "/config";
  ASSERT_TRUE(ReplaceFileAtomic(path, "old").ok());
  ASSERT_EQ(::chmod(dir_.c_str(), 0500), 0);
  Status s = ReplaceFileAtomic(path, "new");
  ::chmod(dir_.c_str(), 0700);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_EQ(Contents(path), "old");
  EXPECT_EQ(Entries(), std::set<std::string>{"config"});
}

TEST_F(FileTest, ReadSmallFileIsBounded) {
  std::string path = dir_ + "/f";
  ASSERT_TRUE(ReplaceFileAtomic(path, std::string(10000, 'a')).ok());
  auto exact = ReadSmallFile(path, 10000);
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  EXPECT_EQ(exact->size(), 10000u);

  auto over = ReadSmallFile(path, 9999);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Errc::kInternal);
  EXPECT_EQ(over.status().message(), path + ": larger than 9999 bytes");
}

TEST_F(FileTest, ReadSmallFileOfAMissingFileNamesThePath) {
  std::string path = dir_ + "/none";
  auto r = ReadSmallFile(path, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kNotFound);
  EXPECT_NE(r.status().message().find("open " + path + ": "), std::string::npos);
  EXPECT_EQ(ReadSmallFile(path, 100, Errc::kUnauthorized).status().code(), Errc::kUnauthorized);
}

}  // namespace
}  // namespace berth
