// ChunkedDecoder: the chunked transfer coding (RFC 9112 §7.1) of a request
// body, decoded in place and with every part bounded.
//
// Beast's parser keeps a chunk-size line, its extensions and the trailer
// fields in the connection's buffer until they end, and throws from inside
// the read when a trailer field is too large: one request could grow a
// connection by hundreds of megabytes or take the process down. Here each
// size line (digits and extensions) is at most kMaxChunkLine bytes, the
// trailer section at most kMaxTrailer bytes and kMaxTrailerFields fields, and
// extensions and trailers are read and dropped (nothing in a registry uses
// them). Line ends must be CRLF: a bare CR or LF is refused, so that berth and
// a proxy in front of it cannot disagree about where a chunk ends.
//
// Thread-safety: a value owned by one connection.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.hpp"

namespace berth::http {

class ChunkedDecoder {
 public:
  // Longest chunk-size line (digits, extensions; without CRLF).
  static constexpr size_t kMaxChunkLine = 4096;
  // Most bytes of trailer fields after the last chunk (without the final CRLF).
  static constexpr size_t kMaxTrailer = 8192;
  // Most trailer fields.
  static constexpr size_t kMaxTrailerFields = 32;

  struct Decoded {
    size_t body = 0;      // body bytes now at the front of the buffer
    size_t consumed = 0;  // input bytes used; the rest follows the message
  };

  // Decodes `buf[0, n)`, moving the body bytes it holds to `buf[0, body)`
  // (body bytes never move forward, so no extra buffer is needed). Stops at
  // the end of the message: input past `consumed` belongs to the next request.
  // Returns kBlobUploadInvalid naming the framing error; the decoder is then
  // unusable and the connection must be closed.
  Result<Decoded> Decode(char* buf, size_t n);

  // Whether the last chunk and the trailer section have been read.
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State {
    kSize,       // hex digits of the chunk size
    kExtension,  // after the digits, up to CR
    kSizeLf,     // LF ending the size line
    kData,       // chunk data
    kDataCr,     // CR after the data
    kDataLf,     // LF after the data
    kTrailer,    // a trailer line, or the empty line ending the message
    kTrailerLf,  // LF ending a trailer line
    kDone,
    kFailed,
  };

  Status Fail(const char* why);

  State state_ = State::kSize;
  uint64_t size_ = 0;  // size of the current chunk
  size_t digits_ = 0;  // significant hex digits read of size_
  size_t line_ = 0;    // bytes of the current size line
  uint64_t left_ = 0;  // data bytes still to come in this chunk
  size_t trailer_bytes_ = 0;
  size_t trailer_fields_ = 0;
  size_t trailer_line_ = 0;  // bytes of the current trailer line
};

}  // namespace berth::http
