// Tests for s3::Client against a real S3 (Ceph RGW): they read S3_ENDPOINT,
// S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION and S3_BUCKET from the environment
// and skip without them. tests/integration/s3_client_test.sh starts a
// throwaway RGW (tests/support/ceph.sh) and runs them, refusing skips.
// The timeout tests need no RGW: they run against local sockets.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "s3/client.hpp"

namespace berth::s3 {
namespace {

namespace fs = std::filesystem;

std::span<const char> Bytes(std::string_view s) { return {s.data(), s.size()}; }

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = gen();
    std::memcpy(out.data() + i, &v, std::min<size_t>(4, n - i));
  }
  return out;
}

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

// A temporary file holding `data`, opened read-only.
class TempFile {
 public:
  explicit TempFile(const std::string& data) {
    std::string tmpl = (fs::temp_directory_path() / "berth-s3-XXXXXX").string();
    fd_ = ::mkstemp(tmpl.data());
    path_ = tmpl;
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
  }
  ~TempFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string path_;
};

ClientOptions OptionsFromEnv() {
  ClientOptions o;
  o.endpoint = Env("S3_ENDPOINT");
  o.access_key = Env("S3_ACCESS_KEY");
  o.secret_key = Secret(Env("S3_SECRET_KEY"));
  o.region = Env("S3_REGION").empty() ? "us-east-1" : Env("S3_REGION");
  o.bucket = Env("S3_BUCKET");
  o.request_timeout_ms = 20000;
  o.low_speed_seconds = 10;
  return o;
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("S3_ENDPOINT").empty() || Env("S3_ACCESS_KEY").empty() ||
        Env("S3_SECRET_KEY").empty() || Env("S3_BUCKET").empty()) {
      GTEST_SKIP() << "no S3 endpoint (set S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET)";
    }
    client_ = std::make_unique<Client>(OptionsFromEnv());
    Status s = client_->CheckBucket(true);
    ASSERT_TRUE(s.ok()) << s.message();
    // Keys of one test run never meet another's.
    prefix_ = "t" + std::to_string(std::random_device{}()) + "/" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }

  std::unique_ptr<Client> client_;
  std::string prefix_;
};

TEST_F(S3ClientTest, BucketCreate) {
  EXPECT_TRUE(client_->CheckBucket(false).ok());
  ClientOptions o = OptionsFromEnv();
  o.bucket = "berth-new-" + std::to_string(std::random_device{}());
  Client other(o);
  Status missing = other.CheckBucket(false);
  EXPECT_EQ(missing.code(), Errc::kNotFound) << missing.message();
  Status created = other.CheckBucket(true);
  EXPECT_TRUE(created.ok()) << created.message();
  EXPECT_TRUE(other.CheckBucket(false).ok());
  EXPECT_TRUE(other.CheckBucket(true).ok());  // already there: fine
}

TEST_F(S3ClientTest, PutHeadGetSmall) {
  std::string key = prefix_ + "small";
  ASSERT_TRUE(client_->Put(key, Bytes("hello, s3")).ok());
  auto info = client_->Head(key);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->size, 9u);
  EXPECT_FALSE(info->etag.empty());
  auto body = client_->GetSmall(key, 100);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_EQ(*body, "hello, s3");
  EXPECT_EQ(client_->GetSmall(key, 8).status().code(), Errc::kTooLarge);
  // Empty objects too.
  ASSERT_TRUE(client_->Put(prefix_ + "empty", {}).ok());
  EXPECT_EQ(client_->Head(prefix_ + "empty")->size, 0u);
  EXPECT_EQ(*client_->GetSmall(prefix_ + "empty", 10), "");
}

TEST_F(S3ClientTest, MissingKey) {
  auto head = client_->Head(prefix_ + "nope");
  EXPECT_EQ(head.status().code(), Errc::kBlobUnknown) << head.status().message();
  auto get = client_->GetSmall(prefix_ + "nope", 10);
  EXPECT_EQ(get.status().code(), Errc::kBlobUnknown) << get.status().message();
  EXPECT_NE(get.status().message().find("NoSuchKey"), std::string::npos) << get.status().message();
  Status streamed = client_->Get(prefix_ + "nope", 0, UINT64_MAX, [](auto) { return true; });
  EXPECT_EQ(streamed.code(), Errc::kBlobUnknown) << streamed.message();
}

TEST_F(S3ClientTest, AwkwardKeys) {
  const std::string keys[] = {"a key with spaces", "plus+equals=amp&", "\xc3\xbc\xe6\xbc\xa2",
                              "dots/../x",         "double//slash",    "pct%20q?#"};
  for (const auto& k : keys) {
    std::string key = prefix_ + k;
    Status put = client_->Put(key, Bytes(k));
    ASSERT_TRUE(put.ok()) << k << ": " << put.message();
    auto got = client_->GetSmall(key, 100);
    ASSERT_TRUE(got.ok()) << k << ": " << got.status().message();
    EXPECT_EQ(*got, k);
  }
  auto page = client_->List(prefix_, "", 100);
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->objects.size(), std::size(keys));
  for (const auto& [key, size] : page->objects) {
    EXPECT_EQ(size, key.size() - prefix_.size()) << key;
  }
}

TEST_F(S3ClientTest, GetRange) {
  std::string data = RandomBytes(1000, 1);
  std::string key = prefix_ + "ranged";
  ASSERT_TRUE(client_->Put(key, Bytes(data)).ok());
  std::string got;
  auto sink = [&](std::span<const char> b) {
    got.append(b.data(), b.size());
    return true;
  };
  Status s = client_->Get(key, 100, 50, sink);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(got, data.substr(100, 50));
  got.clear();
  ASSERT_TRUE(client_->Get(key, 990, UINT64_MAX, sink).ok());
  EXPECT_EQ(got, data.substr(990));
  got.clear();
  ASSERT_TRUE(client_->Get(key, 0, 1000, sink).ok());
  EXPECT_EQ(got, data);
  got.clear();
  // Past the end: S3 clips the range; we asked for more than exists.
  EXPECT_FALSE(client_->Get(key, 900, 200, sink).ok());
}

TEST_F(S3ClientTest, StreamedGetOf20MiB) {
  const size_t kSize = 20 << 20;
  std::string data = RandomBytes(kSize + 7, 2);
  TempFile file(data);
  // The fd's own offset is left where the caller had it.
  ASSERT_EQ(::lseek(file.fd(), 3, SEEK_SET), 3);
  std::string key = prefix_ + "big";
  Status put = client_->PutFile(key, file.fd(), 7, kSize);
  ASSERT_TRUE(put.ok()) << put.message();
  EXPECT_EQ(::lseek(file.fd(), 0, SEEK_CUR), 3);
  EXPECT_EQ(client_->Head(key)->size, kSize);

  std::string got;
  got.reserve(kSize);
  int chunks = 0;
  Status s = client_->Get(key, 0, UINT64_MAX, [&](std::span<const char> b) {
    got.append(b.data(), b.size());
    ++chunks;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_GT(chunks, 1);
  ASSERT_EQ(got.size(), kSize);
  EXPECT_TRUE(got == data.substr(7));

  // The reader may stop early.
  size_t seen = 0;
  Status aborted = client_->Get(key, 0, kSize, [&](std::span<const char> b) {
    seen += b.size();
    return seen < (1 << 20);
  });
  EXPECT_EQ(aborted.code(), Errc::kInternal);
  EXPECT_NE(aborted.message().find("aborted"), std::string::npos) << aborted.message();
  // And the client still works after an aborted transfer.
  EXPECT_TRUE(client_->Head(key).ok());
}

TEST_F(S3ClientTest, PutFileShorterThanPromisedFails) {
  TempFile file("only 12 byte");
  Status s = client_->PutFile(prefix_ + "short", file.fd(), 0, 100);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client_->Head(prefix_ + "short").status().code(), Errc::kBlobUnknown);
}

TEST_F(S3ClientTest, Delete) {
  std::string key = prefix_ + "doomed";
  ASSERT_TRUE(client_->Put(key, Bytes("x")).ok());
  Status s = client_->Delete(key);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(client_->Head(key).status().code(), Errc::kBlobUnknown);
  s = client_->Delete(key);
  EXPECT_TRUE(s.ok()) << "deleting a missing key: " << s.message();
}

TEST_F(S3ClientTest, Copy) {
  ASSERT_TRUE(client_->Put(prefix_ + "from key", Bytes("copied bytes")).ok());
  Status s = client_->Copy(prefix_ + "from key", prefix_ + "to+key");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(*client_->GetSmall(prefix_ + "to+key", 100), "copied bytes");
  Status missing = client_->Copy(prefix_ + "nope", prefix_ + "other");
  EXPECT_EQ(missing.code(), Errc::kBlobUnknown) << missing.message();
}

TEST_F(S3ClientTest, ListWithPagination) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->Put(prefix_ + "k" + std::to_string(i), Bytes(std::string(i, 'x'))).ok());
  }
  ASSERT_TRUE(client_->Put(prefix_ + "other/z", Bytes("z")).ok());
  std::vector<std::pair<std::string, uint64_t>> all;
  std::vector<size_t> page_sizes;
  std::string token;
  do {
    auto page = client_->List(prefix_ + "k", token, 2);
    ASSERT_TRUE(page.ok()) << page.status().message();
    page_sizes.push_back(page->objects.size());
    all.insert(all.end(), page->objects.begin(), page->objects.end());
    token = page->next_token;
  } while (!token.empty() && page_sizes.size() < 10);
  EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2, 1}));
  ASSERT_EQ(all.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(all[i].first, prefix_ + "k" + std::to_string(i));
    EXPECT_EQ(all[i].second, static_cast<uint64_t>(i));
  }
  auto none = client_->List(prefix_ + "none/", "", 2);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->objects.empty());
  EXPECT_EQ(none->next_token, "");
}

TEST_F(S3ClientTest, Multipart) {
  const uint64_t kPart = 5 << 20;
  std::string data = RandomBytes(2 * kPart + 1234, 3);
  TempFile file(data);
  std::string key = prefix_ + "multi part";
  auto id = client_->CreateMultipart(key);
  ASSERT_TRUE(id.ok()) << id.status().message();
  std::vector<CompletedPart> parts;
  uint64_t offsets[] = {0, kPart, 2 * kPart};
  uint64_t lengths[] = {kPart, kPart, 1234};
  for (int i = 0; i < 3; ++i) {
    auto etag = client_->UploadPart(key, *id, i + 1, file.fd(), offsets[i], lengths[i]);
    ASSERT_TRUE(etag.ok()) << etag.status().message();
    parts.push_back({i + 1, *etag});
  }
  // Not visible before completion.
  EXPECT_EQ(client_->Head(key).status().code(), Errc::kBlobUnknown);
  // A wrong ETag is refused (an error inside or outside a 200).
  std::vector<CompletedPart> wrong = parts;
  wrong[1].etag = "\"0123456789abcdef0123456789abcdef\"";
  EXPECT_FALSE(client_->CompleteMultipart(key, *id, wrong).ok());
  Status done = client_->CompleteMultipart(key, *id, parts);
  ASSERT_TRUE(done.ok()) << done.message();
  EXPECT_EQ(client_->Head(key)->size, data.size());
  std::string got;
  ASSERT_TRUE(client_
                  ->Get(key, 0, data.size(),
                        [&](std::span<const char> b) {
                          got.append(b.data(), b.size());
                          return true;
                        })
                  .ok());
  EXPECT_TRUE(got == data);
  // A range across the parts' boundary.
  got.clear();
  ASSERT_TRUE(client_
                  ->Get(key, kPart - 10, 20,
                        [&](std::span<const char> b) {
                          got.append(b.data(), b.size());
                          return true;
                        })
                  .ok());
  EXPECT_EQ(got, data.substr(kPart - 10, 20));
}

TEST_F(S3ClientTest, AbortMultipart) {
  std::string key = prefix_ + "aborted";
  TempFile file(RandomBytes(1000, 4));
  auto id = client_->CreateMultipart(key);
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto etag = client_->UploadPart(key, *id, 1, file.fd(), 0, 1000);
  ASSERT_TRUE(etag.ok()) << etag.status().message();
  Status s = client_->AbortMultipart(key, *id);
  EXPECT_TRUE(s.ok()) << s.message();
  // AWS answers NoSuchUpload; RGW 16 answers 500 InternalError ("This
  // multipart completion is already in progress"), which is kUnavailable.
  Status late = client_->CompleteMultipart(key, *id, {{1, *etag}});
  EXPECT_TRUE(late.code() == Errc::kBlobUploadUnknown || late.code() == Errc::kUnavailable)
      << late.message();
  auto part = client_->UploadPart(key, *id, 2, file.fd(), 0, 1000);
  EXPECT_EQ(part.status().code(), Errc::kBlobUploadUnknown) << part.status().message();
  EXPECT_EQ(client_->Head(key).status().code(), Errc::kBlobUnknown);
  Status unknown = client_->AbortMultipart(key, "no-such-upload");
  EXPECT_EQ(unknown.code(), Errc::kBlobUploadUnknown) << unknown.message();
}

// Runs `curl` on `url`; returns "<status> <body>".
std::string CurlGet(const std::string& url) {
  std::string cmd = "curl -s -m 10 -w ' %{http_code}' '" + url + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "popen failed";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST_F(S3ClientTest, PresignedGetWithPlainCurl) {
  std::string key = prefix_ + "shared file+1";
  ASSERT_TRUE(client_->Put(key, Bytes("presigned body")).ok());
  std::string url = client_->Presign("GET", key, 300);
  EXPECT_EQ(CurlGet(url), "presigned body 200");
  // Tampered: refused.
  std::string bad = url;
  bad[bad.size() - 1] = bad.back() == '0' ? '1' : '0';
  EXPECT_EQ(CurlGet(bad).substr(CurlGet(bad).size() - 3), "403");
}

TEST_F(S3ClientTest, WrongSecretIsRefusedAndNotLogged) {
  ClientOptions o = OptionsFromEnv();
  o.secret_key = Secret("not-the-secret-value");
  Client bad(o);
  auto r = bad.Head(prefix_ + "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("not-the-secret-value"), std::string::npos);
  Status put = bad.Put(prefix_ + "x", Bytes("x"));
  EXPECT_EQ(put.code(), Errc::kInternal) << put.message();
  EXPECT_NE(put.message().find("SignatureDoesNotMatch"), std::string::npos) << put.message();
}

TEST_F(S3ClientTest, ManyThreadsShareOneClient) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string key = prefix_ + std::to_string(t) + "-" + std::to_string(i);
        std::string body = RandomBytes(1000 + i, t * 100 + i);
        if (!client_->Put(key, Bytes(body)).ok()) ++failures;
        auto got = client_->GetSmall(key, 4096);
        if (!got.ok() || *got != body) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// A socket that listens but never accepts: the kernel completes the TCP
// handshake, and nothing ever answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

ClientOptions LocalOptions(int port) {
  ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.bucket = "b";
  o.access_key = "AK";
  o.secret_key = Secret("SK");
  o.connect_timeout_ms = 1000;
  o.request_timeout_ms = 1000;
  o.low_speed_seconds = 1;
  return o;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(S3ClientTimeout, SilentServerFailsUnavailableWithinTheTimeout) {
  SilentListener server;
  Client c(LocalOptions(server.port()));
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.Head("k");
  double took = SecondsSince(t0);
  EXPECT_EQ(r.status().code(), Errc::kUnavailable) << r.status().message();
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 2.5);
  RecordProperty("head_timeout_seconds", std::to_string(took));

  // A stream is bounded by the low-speed limit instead.
  t0 = std::chrono::steady_clock::now();
  Status g = c.Get("k", 0, UINT64_MAX, [](auto) { return true; });
  took = SecondsSince(t0);
  EXPECT_EQ(g.code(), Errc::kUnavailable) << g.message();
  EXPECT_LT(took, 3.5);
  RecordProperty("get_low_speed_seconds", std::to_string(took));
}

TEST(S3ClientTimeout, RefusedConnectionIsUnavailable) {
  int port;
  {
    SilentListener gone;  // a port that was free a moment ago
    port = gone.port();
  }
  Client c(LocalOptions(port));
  Status s = c.Delete("k");
  EXPECT_EQ(s.code(), Errc::kUnavailable) << s.message();
}

}  // namespace
}  // namespace berth::s3
