// berth_s3_bench FILE KEY: uploads FILE to KEY with s3::Client::PutFile (one
// PUT, unsigned payload), then streams it back with Client::Get into a sink
// that only counts, and prints "put_mib_s=N get_mib_s=N". The endpoint and
// credentials come from S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY,
// S3_REGION, S3_BUCKET (tests/support/ceph.sh writes them).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "s3/client.hpp"

namespace {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE KEY\n", argv[0]);
    return 2;
  }
  int fd = ::open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    perror(argv[1]);
    return 1;
  }
  berth::s3::ClientOptions o;
  o.endpoint = Env("S3_ENDPOINT");
  o.access_key = Env("S3_ACCESS_KEY");
  o.secret_key = berth::Secret(Env("S3_SECRET_KEY"));
  o.region = Env("S3_REGION").empty() ? "us-east-1" : Env("S3_REGION");
  o.bucket = Env("S3_BUCKET");
  berth::s3::Client client(o);
  if (auto s = client.CheckBucket(true); !s.ok()) {
    fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  const double mib = static_cast<double>(st.st_size) / (1 << 20);
  auto t0 = std::chrono::steady_clock::now();
  if (auto s = client.PutFile(argv[2], fd, 0, static_cast<uint64_t>(st.st_size)); !s.ok()) {
    fprintf(stderr, "put: %s\n", s.message().c_str());
    return 1;
  }
  double put = mib / Seconds(t0);
  uint64_t got = 0;
  t0 = std::chrono::steady_clock::now();
  auto s = client.Get(argv[2], 0, static_cast<uint64_t>(st.st_size), [&](std::span<const char> b) {
    got += b.size();
    return true;
  });
  if (!s.ok()) {
    fprintf(stderr, "get: %s\n", s.message().c_str());
    return 1;
  }
  double get = mib / Seconds(t0);
  printf("put_mib_s=%.0f get_mib_s=%.0f\n", put, get);
  return 0;
}
