// LogSafe: makes a value that came from a client fit to stand inside one log
// line. Without it a user name holding "\n" forges a whole audit line, and ESC
// or NUL bytes drive the operator's terminal.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace berth {

// Longest client value kept in a log line, in bytes of the input.
inline constexpr size_t kMaxLogValue = 256;

// Returns `text` with every byte that could break a line or a parser escaped:
// control bytes (C0, DEL), '"' and '\\' as \n \r \t \" \\ or \xNN; bytes of
// invalid UTF-8 as \xNN (valid multi-byte UTF-8 is kept). Past `max` input
// bytes the rest is cut and "...(+N bytes)" says how much. An empty value
// becomes "-", so that fields never vanish from a line.
std::string LogSafe(std::string_view text, size_t max = kMaxLogValue);

// Appends `text` to `out` as the inside of a JSON string: '"', '\\' and control
// bytes escaped, invalid UTF-8 replaced by U+FFFD, so the line stays valid
// JSON whatever the text holds.
void AppendJsonEscaped(std::string_view text, std::string& out);

}  // namespace berth
