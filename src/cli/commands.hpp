// The berth subcommands. main.cpp parses the command line and calls one of
// these; each returns the process exit code (2 for bad configuration).
#pragma once

#include <string>

namespace berth::cli {

// `berth serve` / `berth registry`: run the registry until SIGTERM.
int Serve(const std::string& config_path);

// `berth init`: write a default config (if missing), the storage root and
// the TLS certificate, then print how to trust it.
int Init(const std::string& config_path);

}  // namespace berth::cli
