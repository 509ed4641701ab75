#include "http/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

namespace berth::http {

// OpenSSL's memory BIO would do, but it zeroes every byte it grows by and
// moves what is left to the front of its buffer on each write: a memset and a
// memmove per file chunk of a download, ~9 % of a TLS pull's CPU. This buffer
// only appends and is emptied by sending.
struct TlsStream::OutputBuffer {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
  size_t begin = 0;  // [begin, end) is waiting to be sent
  size_t end = 0;

  bool Append(const char* p, size_t n) {
    if (end + n > capacity) {
      size_t live = end - begin;
      if (live + n <= capacity) {
        std::memmove(data.get(), data.get() + begin, live);
      } else {
        size_t grown = std::max({capacity * 2, live + n, size_t{64 * 1024}});
        std::unique_ptr<char[]> bigger(new (std::nothrow) char[grown]);
        if (!bigger) return false;
        if (live > 0) std::memcpy(bigger.get(), data.get() + begin, live);
        data = std::move(bigger);
        capacity = grown;
      }
      begin = 0;
      end = live;
    }
    std::memcpy(data.get() + end, p, n);
    end += n;
    return true;
  }
  void Consume(size_t n) {
    begin += std::min(n, end - begin);
    if (begin == end) begin = end = 0;
  }
  void Release() {  // frees the storage; REQUIRES: nothing waiting
    data.reset();
    capacity = 0;
  }
};

namespace {

// The write BIO: appends what the SSL writes to the connection's OutputBuffer.
int OutputWrite(BIO* bio, const char* p, int n) {
  auto* out = static_cast<TlsStream::OutputBuffer*>(BIO_get_data(bio));
  if (n < 0 || out == nullptr || !out->Append(p, static_cast<size_t>(n))) return -1;
  return n;
}

long OutputCtrl(BIO* bio, int cmd, long, void*) {
  auto* out = static_cast<TlsStream::OutputBuffer*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:  // the caller sends; nothing to do here
      return 1;
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING:
      return out == nullptr ? 0 : static_cast<long>(out->end - out->begin);
    default:
      return 0;
  }
}

int OutputCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// Made once, on first use (thread-safe static), and never freed.
const BIO_METHOD* OutputMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "berth tls output");
    if (m != nullptr) {
      BIO_meth_set_write(m, OutputWrite);
      BIO_meth_set_ctrl(m, OutputCtrl);
      BIO_meth_set_create(m, OutputCreate);
    }
    return m;
  }();
  return method;
}

namespace asio = boost::asio;
using Error = boost::system::error_code;

// One socket read: two full TLS records.
constexpr size_t kInput = 32 * 1024;
// An output buffer grown past this (by a file body) is freed when the
// connection goes back to waiting for a request.
constexpr size_t kKeepOutput = 64 * 1024;

// What OpenSSL queued for the call that just failed, or `fallback`. Every
// call is preceded by ERR_clear_error, and queues are per thread, so what is
// queued belongs to that call.
Error Queued(Error fallback) {
  unsigned long e = ERR_get_error();
  if (e == 0) return fallback;
  return Error(static_cast<int>(e), asio::error::get_ssl_category());
}

// The error of the SSL_* call that just returned `ret`.
Error SslError(SSL* ssl, int ret) {
  if (SSL_get_error(ssl, ret) == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // close_notify
  return Queued(asio::ssl::error::unexpected_result);
}

}  // namespace

TlsStream::TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
    : tcp_(std::move(socket)),
      tls_(std::move(tls)),
      out_(std::make_unique<OutputBuffer>()),
      ssl_(nullptr, &SSL_free) {
  SSL* ssl = SSL_new(tls_->native_handle());
  BIO* in = BIO_new(BIO_s_mem());
  const BIO_METHOD* method = OutputMethod();
  BIO* out = method != nullptr ? BIO_new(method) : nullptr;
  if (out != nullptr) BIO_set_data(out, out_.get());
  if (ssl == nullptr || in == nullptr || out == nullptr) {
    // Every step then fails with no_memory: the handshake reports it.
    // Nothing stale is left queued for this thread's next OpenSSL user.
    ERR_clear_error();
    SSL_free(ssl);
    BIO_free(in);
    BIO_free(out);
    return;
  }
  SSL_set_bio(ssl, in, out);  // the SSL owns both BIOs from here
  // OpenSSL's own record buffers are freed while the connection is idle.
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  SSL_set_accept_state(ssl);
  ssl_.reset(ssl);
}

TlsStream::~TlsStream() = default;

bool TlsStream::Usable(Error& ec) const {
  if (!ssl_) ec = asio::error::no_memory;
  return ssl_ != nullptr;
}

bool TlsStream::HandshakeStep(Error& ec) {
  if (!Usable(ec)) return true;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) return true;
  if (SSL_get_error(ssl_.get(), r) == SSL_ERROR_WANT_READ) return false;
  ec = SslError(ssl_.get(), r);
  return true;
}

bool TlsStream::ReadStep(asio::mutable_buffer buf, size_t& n, Error& ec) {
  if (buf.size() == 0) return true;
  if (!Usable(ec)) return true;
  // Decrypts as many buffered records as fit, so a large read (a body
  // streaming in) completes once per socket read rather than per record.
  while (n < buf.size()) {
    ERR_clear_error();
    size_t got = 0;
    int r = SSL_read_ex(ssl_.get(), static_cast<char*>(buf.data()) + n, buf.size() - n, &got);
    if (r == 1) {
      n += got;
      continue;
    }
    // What stopped the loop, a want for input or a failure, comes back on
    // the next read.
    if (n > 0) return true;
    if (SSL_get_error(ssl_.get(), r) != SSL_ERROR_WANT_READ) {
      ec = SslError(ssl_.get(), r);
      return true;
    }
    // Waiting for the peer, typically for the next request: an output
    // buffer that a file body grew is not worth keeping meanwhile.
    if (out_->end == out_->begin && out_->capacity > kKeepOutput) out_->Release();
    return false;
  }
  return true;
}

bool TlsStream::ShutdownStep(Error& ec) {
  if (!Usable(ec)) return true;
  ERR_clear_error();
  // 0 means close_notify is queued and the peer's has not come: fine, the
  // connection closes after this anyway.
  int r = SSL_shutdown(ssl_.get());
  if (r < 0) ec = SslError(ssl_.get(), r);
  return true;
}

bool TlsStream::Put(asio::const_buffer b, Error& ec) {
  if (b.size() == 0) return true;
  const char* p = static_cast<const char*>(b.data());
  if (staged_.size() + b.size() <= kStage) {
    staged_.append(p, b.size());
    return true;
  }
  if (!Flush(ec)) return false;
  if (b.size() < kStage) {
    staged_.append(p, b.size());
    return true;
  }
  return Encrypt(p, b.size(), ec);
}

bool TlsStream::Flush(Error& ec) {
  if (staged_.empty()) return true;
  bool ok = Encrypt(staged_.data(), staged_.size(), ec);
  staged_.clear();
  return ok;
}

bool TlsStream::Encrypt(const void* data, size_t size, Error& ec) {
  if (!Usable(ec)) return false;
  // The write BIO never refuses a write (short of memory), so this takes
  // everything at once: the records of the whole buffer end up in out_ together.
  ERR_clear_error();
  size_t written = 0;
  int r = SSL_write_ex(ssl_.get(), data, size, &written);
  if (r != 1) {
    ec = SslError(ssl_.get(), r);
    return false;
  }
  return true;
}

asio::const_buffer TlsStream::Output() const {
  if (out_->end == out_->begin) return {};
  return {out_->data.get() + out_->begin, out_->end - out_->begin};
}

void TlsStream::Sent(size_t n) { out_->Consume(n); }

asio::mutable_buffer TlsStream::InputSpace() {
  if (!input_) input_ = std::make_unique<char[]>(kInput);
  return {input_.get(), kInput};
}

Error TlsStream::Received(size_t n) {
  if (n == 0) return {};
  ERR_clear_error();
  if (BIO_write(SSL_get_rbio(ssl_.get()), input_.get(), static_cast<int>(n)) !=
      static_cast<int>(n)) {
    return Queued(asio::error::no_memory);
  }
  return {};
}

}  // namespace berth::http
