#include "http/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>

#include <climits>

namespace berth::http {
namespace {

namespace asio = boost::asio;
using Error = boost::system::error_code;

// One socket read: two full TLS records.
constexpr size_t kInput = 32 * 1024;
// A write BIO grown past this (by a file body) is replaced by a fresh one
// when the connection goes back to waiting for a request.
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
    : tcp_(std::move(socket)), tls_(std::move(tls)), ssl_(nullptr, &SSL_free) {
  SSL* ssl = SSL_new(tls_->native_handle());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
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
    // Waiting for the peer, typically for the next request: a write BIO that
    // a file body grew is not worth keeping meanwhile.
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(SSL_get_wbio(ssl_.get()), &mem);
    if (mem != nullptr && mem->length == 0 && mem->max > kKeepOutput) {
      if (BIO* fresh = BIO_new(BIO_s_mem())) SSL_set0_wbio(ssl_.get(), fresh);
    }
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
  // A memory BIO never refuses a write, so this takes everything at once:
  // the records of the whole buffer end up in the write BIO together.
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
  if (!ssl_) return {};
  char* data = nullptr;
  long size = BIO_get_mem_data(SSL_get_wbio(ssl_.get()), &data);
  return {data, size > 0 ? static_cast<size_t>(size) : 0};
}

void TlsStream::Sent(size_t n) {
  // Skips what was sent. BIO_reset would instead zero the BIO's whole
  // capacity, a memset of a few hundred KiB per file chunk.
  BIO* out = SSL_get_wbio(ssl_.get());
  BIO_seek(out, BIO_tell(out) + static_cast<long>(n));
}

asio::mutable_buffer TlsStream::InputSpace() {
  if (!input_) input_ = std::make_unique<char[]>(kInput);
  return {input_.get(), kInput};
}

Error TlsStream::Received(size_t n) {
  if (n == 0) return {};
  ERR_clear_error();
  if (BIO_write(SSL_get_rbio(ssl_.get()), input_.get(), static_cast<int>(n)) != static_cast<int>(n)) {
    return Queued(asio::error::no_memory);
  }
  return {};
}

}  // namespace berth::http
