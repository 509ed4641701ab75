// TlsStream: the server side of TLS over a beast::tcp_stream, with BIOs in
// memory between the engine and the socket. asio::ssl::stream sends
// every 16 KiB record with a socket write of its own (and its copies, op
// hand-offs and often an EAGAIN and an epoll wait); here one write encrypts
// the caller's whole buffer (up to kMaxPlainPerWrite) and sends all its
// records with one socket write. Internal to http/.
//
// It satisfies Asio's AsyncReadStream and AsyncWriteStream, so Beast's HTTP
// reads and writes work on it, and beast::get_lowest_layer reaches the
// tcp_stream, whose timeouts cover all socket I/O.
//
// Thread-safety: one operation at a time (unlike asio::ssl::stream, no read
// concurrent with a write): the HTTP/1.1 session never needs both. Closing
// the socket from the same executor while an operation waits is fine.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace berth::http {

class TlsStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using next_layer_type = boost::beast::tcp_stream;

  // `tls` stays alive as long as the stream: a certificate reload swaps the
  // listener's context while this connection still uses the old one.
  TlsStream(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Ciphertext waiting for the socket, which the SSL's write BIO appends to
  // (tls_stream.cpp). Named here only so that the BIO's callbacks reach it.
  struct OutputBuffer;

  executor_type get_executor() { return tcp_.get_executor(); }
  // The TCP stream beneath; its expires_after bounds every operation here.
  boost::beast::tcp_stream& next_layer() { return tcp_; }

  // Server handshake. Completes with void(error_code).
  template <typename Token>
  auto async_handshake(Token&& token) {
    return Start<false>([this](Error& ec, size_t&) { return HandshakeStep(ec); },
                        std::forward<Token>(token));
  }

  // Reads some plaintext into the first non-empty buffer of `buffers`.
  // A peer's close_notify completes with asio::error::eof; a peer that closed
  // the connection without one, with asio::ssl::error::stream_truncated.
  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer buf;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      buf = *it;
      if (buf.size() > 0) break;
    }
    return Start<true>([this, buf](Error& ec, size_t& n) { return ReadStep(buf, n, ec); },
                       std::forward<Token>(token));
  }

  // Encrypts up to kMaxPlainPerWrite bytes of `buffers` and sends them with
  // one socket write; completes with the plaintext bytes taken.
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return Start<true>(
        [this, buffers](Error& ec, size_t& n) {
          n = EncryptSequence(buffers, ec);
          return true;
        },
        std::forward<Token>(token));
  }

  // Sends close_notify and completes once it is written; does not wait for
  // the peer's. Completes with void(error_code).
  template <typename Token>
  auto async_shutdown(Token&& token) {
    return Start<false>([this](Error& ec, size_t&) { return ShutdownStep(ec); },
                        std::forward<Token>(token));
  }

 private:
  using Error = boost::system::error_code;

  // Plaintext one write_some takes at most: bounds the ciphertext buffered
  // per connection.
  static constexpr size_t kMaxPlainPerWrite = 512 * 1024;
  // Pieces smaller than this are gathered before encryption (one TLS record's
  // payload), so a response head of many small buffers is one record.
  static constexpr size_t kStage = 16 * 1024;

  // False, with `ec` set, when the constructor could not make the SSL object.
  bool Usable(Error& ec) const;

  // Each Step runs OpenSSL on what is buffered and returns true when its
  // operation is finished (`ec` set on failure), false when it needs more
  // input from the peer. Output OpenSSL produced is sent by the caller.
  bool HandshakeStep(Error& ec);
  bool ReadStep(boost::asio::mutable_buffer buf, size_t& n, Error& ec);
  bool ShutdownStep(Error& ec);

  template <typename ConstBuffers>
  size_t EncryptSequence(const ConstBuffers& buffers, Error& ec) {
    size_t total = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && total < kMaxPlainPerWrite; ++it) {
      boost::asio::const_buffer b = boost::asio::buffer(*it, kMaxPlainPerWrite - total);
      if (!Put(b, ec)) return 0;
      total += b.size();
    }
    return Flush(ec) ? total : 0;
  }
  // Encrypts `b`, or stages it when small; Flush encrypts what is staged.
  bool Put(boost::asio::const_buffer b, Error& ec);
  bool Flush(Error& ec);
  bool Encrypt(const void* data, size_t size, Error& ec);

  // Ciphertext waiting to be sent, and how much of it went out.
  boost::asio::const_buffer Output() const;
  void Sent(size_t n);
  // Where the next socket read goes, and what it brought.
  boost::asio::mutable_buffer InputSpace();
  Error Received(size_t n);

  // asio::transfer_all hands the socket 64 KiB per sendmsg; this offers it
  // all the ciphertext at once.
  struct AllAtOnce {
    size_t operator()(const Error& ec, size_t) const { return ec ? 0 : SIZE_MAX; }
  };

  // Drives one operation: runs `step`, sends what it produced, reads when it
  // needs input, until it is finished. kBytes: completes with
  // (error_code, size_t) rather than (error_code).
  template <bool kBytes, typename Step>
  class Op {
   public:
    Op(TlsStream& s, Step step) : s_(s), step_(std::move(step)) {}

    template <typename Self>
    void operator()(Self& self, Error ec = {}, size_t n = 0) {
      switch (state_) {
        case State::kStart:
          break;
        case State::kPosted:
          return Complete(self, ec_);
        case State::kSending:
          if (ec) return Complete(self, ec_ ? ec_ : ec);
          s_.Sent(n);
          break;
        case State::kReceiving:
          // The peer closed TCP without close_notify (after one the step
          // would have finished with eof before reading again).
          if (ec == boost::asio::error::eof) ec = boost::asio::ssl::error::stream_truncated;
          if (!ec) ec = s_.Received(n);
          if (ec) return Complete(self, ec);
          break;
      }
      if (!done_) done_ = step_(ec_, bytes_);
      if (auto out = s_.Output(); out.size() > 0) {
        state_ = State::kSending;
        return boost::asio::async_write(s_.tcp_, out, AllAtOnce{}, std::move(self));
      }
      if (!done_) {
        state_ = State::kReceiving;
        return s_.tcp_.async_read_some(s_.InputSpace(), std::move(self));
      }
      if (state_ == State::kStart) {
        // Finished without waiting: the handler must not run inside the
        // initiating call, so it runs from the executor's queue.
        state_ = State::kPosted;
        return boost::asio::post(s_.get_executor(), std::move(self));
      }
      Complete(self, ec_);
    }

   private:
    enum class State { kStart, kPosted, kSending, kReceiving };

    template <typename Self>
    void Complete(Self& self, Error ec) {
      if constexpr (kBytes) {
        self.complete(ec, ec ? 0 : bytes_);
      } else {
        self.complete(ec);
      }
    }

    TlsStream& s_;
    Step step_;
    State state_ = State::kStart;
    bool done_ = false;
    Error ec_;
    size_t bytes_ = 0;
  };

  template <bool kBytes, typename Step, typename Token>
  auto Start(Step step, Token&& token) {
    using Signature = std::conditional_t<kBytes, void(Error, size_t), void(Error)>;
    return boost::asio::async_compose<Token, Signature>(Op<kBytes, Step>(*this, std::move(step)),
                                                        token, tcp_);
  }

  boost::beast::tcp_stream tcp_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<OutputBuffer> out_;  // outlives ssl_, whose write BIO points at it
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl_;
  std::unique_ptr<char[]> input_;  // socket reads land here, then go to the read BIO
  std::string staged_;             // small plaintext pieces waiting for Flush
};

}  // namespace berth::http
