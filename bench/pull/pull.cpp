// berth_bench_pull: downloads one URL as cheaply as a client can, so that a
// pull measures the server rather than the client.
//
//   berth_bench_pull URL BYTES [--cacert FILE] [--header "Name: value"]
//
// URL is http://HOST:PORT/PATH or https://HOST:PORT/PATH (HOST an IP
// address). One GET over HTTP/1.1; the body is read into a 1 MiB buffer with
// reads as large as the buffer (SSL_read_ex for https, which hands back every
// whole record already received) and thrown away. Prints one JSON line:
// {"status": S, "bytes": N, "seconds": T}, T from the request to the last
// byte. Exits 1 when the answer is not 200 with exactly BYTES bytes.
//
// Why not curl: over TLS, curl reads one 16 KiB record per call into its own
// buffer and spends ~0.8 CPU s per GiB doing so, which caps a download at
// ~1.3 GB/s on the bench machine, below what either server can send.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr size_t kBuffer = 1 << 20;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "berth_bench_pull: %s\n", what.c_str());
  std::exit(1);
}

struct Url {
  bool tls = false;
  std::string host;
  int port = 0;
  std::string target;
};

Url ParseUrl(const std::string& s) {
  Url u;
  std::string rest;
  if (s.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = s.substr(8);
  } else if (s.rfind("http://", 0) == 0) {
    rest = s.substr(7);
  } else {
    Die("URL must start with http:// or https://: " + s);
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos) Die("URL needs a port: " + s);
  u.host = authority.substr(0, colon);
  u.port = std::atoi(authority.substr(colon + 1).c_str());
  return u;
}

// A connection that reads and writes either plain or through OpenSSL.
class Conn {
 public:
  Conn(const Url& u, const std::string& cacert) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(u.port));
    if (fd_ < 0 || ::inet_pton(AF_INET, u.host.c_str(), &a.sin_addr) != 1 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Die("cannot connect to " + u.host + ":" + std::to_string(u.port));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!u.tls) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) Die("SSL_CTX_new failed");
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (cacert.empty() ? SSL_CTX_set_default_verify_paths(ctx_) != 1
                       : SSL_CTX_load_verify_locations(ctx_, cacert.c_str(), nullptr) != 1) {
      Die("cannot load CA certificates " + cacert);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, u.host.c_str());
    if (SSL_connect(ssl_) != 1) {
      ERR_print_errors_fp(stderr);
      Die("TLS handshake failed");
    }
  }
  ~Conn() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  void WriteAll(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n;
      if (ssl_ != nullptr) {
        size_t w = 0;
        n = SSL_write_ex(ssl_, s.data() + off, s.size() - off, &w) == 1 ? static_cast<ssize_t>(w)
                                                                        : -1;
      } else {
        n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      }
      if (n <= 0) Die("request write failed");
      off += static_cast<size_t>(n);
    }
  }

  // Up to `size` bytes; 0 at the end of the stream.
  size_t Read(char* p, size_t size) {
    if (ssl_ != nullptr) {
      size_t got = 0;
      if (SSL_read_ex(ssl_, p, size, &got) == 1) return got;
      int e = SSL_get_error(ssl_, 0);
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      Die("TLS read failed");
    }
    ssize_t n = ::recv(fd_, p, size, 0);
    if (n < 0) Die("read failed");
    return static_cast<size_t>(n);
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// The value of header `name` (lower case) in `head`, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t colon = head.find(':', pos);
    size_t eol = head.find("\r\n", pos);
    if (colon == std::string::npos || eol == std::string::npos || colon > eol) continue;
    std::string key = head.substr(pos, colon - pos);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key != name) continue;
    size_t v = head.find_first_not_of(" \t", colon + 1);
    return head.substr(v, eol - v);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) Die("usage: berth_bench_pull URL BYTES [--cacert FILE] [--header 'Name: value']");
  Url url = ParseUrl(argv[1]);
  unsigned long long want = std::strtoull(argv[2], nullptr, 10);
  std::string cacert, extra;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--cacert") {
      cacert = argv[i + 1];
    } else if (flag == "--header") {
      extra += std::string(argv[i + 1]) + "\r\n";
    } else {
      Die("unknown argument " + flag);
    }
  }

  Conn conn(url, cacert);
  std::vector<char> buf(kBuffer);
  auto t0 = std::chrono::steady_clock::now();
  conn.WriteAll("GET " + url.target + " HTTP/1.1\r\nHost: " + url.host + ":" +
                std::to_string(url.port) + "\r\nUser-Agent: berth_bench_pull\r\n" + extra +
                "Connection: close\r\n\r\n");

  std::string head;
  size_t body_start = std::string::npos;
  size_t filled = 0;
  while (body_start == std::string::npos) {
    size_t n = conn.Read(buf.data(), buf.size());
    if (n == 0) Die("connection closed before the end of the response head");
    head.append(buf.data(), n);
    size_t end = head.find("\r\n\r\n");
    if (end != std::string::npos) {
      body_start = end + 4;
      filled = head.size() - body_start;
      head.resize(body_start);
    } else if (head.size() > (64 << 10)) {
      Die("response head too large");
    }
  }
  int status = 0;
  std::sscanf(head.c_str(), "HTTP/%*s %d", &status);
  std::string length = HeaderValue(head, "content-length");
  if (status != 200 || length.empty()) {
    std::printf("{\"status\": %d, \"bytes\": 0, \"seconds\": 0}\n", status);
    return 1;
  }
  unsigned long long total = std::strtoull(length.c_str(), nullptr, 10);
  unsigned long long got = filled;
  while (got < total) {
    size_t n = conn.Read(buf.data(), buf.size());
    if (n == 0) break;
    got += n;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"status\": %d, \"bytes\": %llu, \"seconds\": %.6f}\n", status, got, seconds);
  return got == want && total == want ? 0 : 1;
}
