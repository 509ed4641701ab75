// berth: a private container registry. main parses and dispatches, nothing else.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"berth: a private container registry (OCI Distribution API v1.1)"};
  app.require_subcommand(1);
  std::string config;
  auto add = [&](const char* name, const char* help) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("-c,--config", config, "configuration file (YAML)");
    return sub;
  };
  auto* serve = add("serve", "run the registry (and, later, the token server)");
  auto* registry = add("registry", "run the registry alone");
  auto* init = add("init", "write a default config, storage root and TLS certificate");
  CLI11_PARSE(app, argc, argv);
  if (*serve || *registry) return berth::cli::Serve(config);
  if (*init) return berth::cli::Init(config);
  return 1;
}
