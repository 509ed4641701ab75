// berth_bench_sink: the least work a registry must do to take a blob push.
//
//   berth_bench_sink PORT DIR
//
// Listens on 127.0.0.1:PORT and serves one connection at a time, with
// keep-alive. A request with a body (any method; only Content-Length is read
// from the head) is received into a 1 MiB buffer, hashed (SHA-256, OpenSSL
// EVP), written to a file in DIR, fsynced, and the file unlinked; the answer is
// 201 with "sha256:<hex>" as its body. A request without a body (a GET for
// readiness) gets 200 and an empty body. Single thread, plain POSIX sockets:
// receive, hash, write, fsync, and nothing else. bench/run.sh sends the big
// blob here with the same client it uses for the servers' pushes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr size_t kBufBytes = 1 << 20;
constexpr size_t kMaxHead = 64 << 10;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "berth_bench_sink: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

bool SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool WriteAll(int fd, const unsigned char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool Reply(int fd, const char* status, const std::string& body) {
  std::string r = std::string("HTTP/1.1 ") + status +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return SendAll(fd, r.data(), r.size());
}

// Content-Length of a request head (0 when absent), or -1 when malformed.
long long ContentLength(const std::string& head) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    static const char kName[] = "content-length:";
    if (head.size() - pos < sizeof kName - 1 ||
        strncasecmp(head.c_str() + pos, kName, sizeof kName - 1) != 0) {
      continue;
    }
    char* end = nullptr;
    long long n = std::strtoll(head.c_str() + pos + sizeof kName - 1, &end, 10);
    return (end == head.c_str() + pos + sizeof kName - 1 || n < 0) ? -1 : n;
  }
  return 0;
}

// Takes the body: hash, write, fsync, unlink. `have` bytes of it are already in buf.
bool Body(int fd, const std::string& path, unsigned char* buf, size_t have, long long left,
          std::string& digest) {
  int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) Die("open");
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (md == nullptr || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) Die("EVP_DigestInit_ex");
  bool ok = true;
  while (ok) {
    if (have > 0) {
      if (EVP_DigestUpdate(md, buf, have) != 1) Die("EVP_DigestUpdate");
      if (!WriteAll(out, buf, have)) Die("write");
      left -= static_cast<long long>(have);
      have = 0;
    }
    if (left == 0) break;
    size_t want = left < static_cast<long long>(kBufBytes) ? static_cast<size_t>(left) : kBufBytes;
    ssize_t got = ::recv(fd, buf, want, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      ok = false;  // the client went away mid-body
    else
      have = static_cast<size_t>(got);
  }
  if (ok && ::fsync(out) != 0) Die("fsync");
  ::close(out);
  ::unlink(path.c_str());
  unsigned char sum[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(md, sum, &n);
  EVP_MD_CTX_free(md);
  static const char kHex[] = "0123456789abcdef";
  digest = "sha256:";
  for (unsigned int i = 0; i < n; ++i) {
    digest += kHex[sum[i] >> 4];
    digest += kHex[sum[i] & 15];
  }
  return ok;
}

void Serve(int fd, const std::string& path, unsigned char* buf) {
  std::string pending;  // bytes received beyond the last request
  for (;;) {
    size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
      if (pending.size() > kMaxHead) return;
      char tmp[16 << 10];
      ssize_t got = ::recv(fd, tmp, sizeof tmp, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return;
      pending.append(tmp, static_cast<size_t>(got));
    }
    std::string head = pending.substr(0, end + 2);
    pending.erase(0, end + 4);
    long long length = ContentLength(head);
    if (length < 0) {
      Reply(fd, "400 Bad Request", "");
      return;
    }
    if (length == 0) {
      if (!Reply(fd, "200 OK", "")) return;
      continue;
    }
    // Whatever of the body came with the head goes first (at most 64 KiB).
    size_t have =
        pending.size() < static_cast<size_t>(length) ? pending.size() : static_cast<size_t>(length);
    std::memcpy(buf, pending.data(), have);
    pending.erase(0, have);
    std::string digest;
    if (!Body(fd, path, buf, have, length, digest)) return;
    if (!Reply(fd, "201 Created", digest)) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: berth_bench_sink PORT DIR\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  std::string path = std::string(argv[2]) + "/sink.data";
  int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) Die("socket");
  int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("bind");
  if (::listen(ls, 16) != 0) Die("listen");
  std::vector<unsigned char> buf(kBufBytes);
  for (;;) {
    int fd = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      Die("accept");
    }
    Serve(fd, path, buf.data());
    ::close(fd);
  }
}
