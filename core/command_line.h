// Command-line parsing shared by the executables: CLI11 prints the message
// (or the help), and a bad command line exits 2 as every main() documents,
// rather than with CLI11's own codes.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace edgefl {

// nullopt: go on; otherwise the exit code main() should return.
inline std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace edgefl
