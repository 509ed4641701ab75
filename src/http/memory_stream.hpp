// MemoryStream: a connection whose bytes come from a string and whose output
// is counted and dropped. It lets the fuzz target and unit tests drive the
// real Session code (ServeBytes in session.hpp) without sockets. It reads in
// pieces of a chosen size so that every way of splitting a request across
// reads is reachable. Internal to http/.
//
// Thread-safety: one connection on one single-threaded io_context.
#pragma once

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <string>

namespace berth::http {

class MemoryStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  // Stands in for the socket that Session closes on a watchdog or shutdown.
  struct Socket {
    MemoryStream* stream;
    void close(boost::system::error_code& ec) {
      stream->closed_ = true;
      ec = {};
    }
  };

  // `piece`: the most bytes one read returns (at least 1).
  MemoryStream(executor_type ex, std::string input, size_t piece)
      : ex_(std::move(ex)), input_(std::move(input)), piece_(std::max<size_t>(piece, 1)) {}

  executor_type get_executor() { return ex_; }

  // Deadlines mean nothing here: input never stalls, it only ends.
  template <typename Duration>
  void expires_after(Duration) {}
  void expires_never() {}
  Socket socket() { return Socket{this}; }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          size_t n = 0;
          boost::system::error_code ec;
          if (closed_) {
            ec = boost::asio::error::bad_descriptor;
          } else if (pos_ >= input_.size()) {
            ec = boost::asio::error::eof;
          } else {
            const size_t avail = std::min(piece_, input_.size() - pos_);
            n = boost::asio::buffer_copy(b, boost::asio::buffer(input_.data() + pos_, avail));
            pos_ += n;
          }
          boost::asio::post(ex_, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
        },
        token, buffers);
  }

  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          boost::system::error_code ec;
          size_t n = 0;
          if (closed_) {
            ec = boost::asio::error::bad_descriptor;
          } else {
            n = boost::asio::buffer_size(b);
            for (auto it = boost::asio::buffer_sequence_begin(b);
                 it != boost::asio::buffer_sequence_end(b); ++it) {
              const auto piece = boost::asio::const_buffer(*it);
              const size_t keep =
                  std::min(piece.size(), kMaxOutput - std::min(kMaxOutput, output_.size()));
              output_.append(static_cast<const char*>(piece.data()), keep);
            }
          }
          boost::asio::post(ex_, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
        },
        token, buffers);
  }

  // What was answered, the first kMaxOutput bytes of it.
  const std::string& output() const { return output_; }

 private:
  executor_type ex_;
  const std::string input_;
  const size_t piece_;
  size_t pos_ = 0;
  static constexpr size_t kMaxOutput = 1 << 20;
  std::string output_;
  bool closed_ = false;
};

}  // namespace berth::http
