// edgefl-audit-bench: what audit.log (runfiles/audit_trail.h) costs a
// round at a realistic dimension: the digests of the N accepted updates as
// received, of the step (a float64 direction) and of the model after it,
// and the line written, for dense (identity, 4d bytes an update) and sign
// (d/8 bytes) updates, keyed and unkeyed. The baseline, measured in the same
// run, is one memcpy of the same bytes (what a round already does to them at
// least once). Each time is the best of --repeats rounds. The benchmark
// prints figures; it never fails on a time.
//
// Usage: edgefl-audit-bench [--dimension N] [--nodes N] [--repeats R]
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "runfiles/audit_trail.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t d = 1000000, nodes = 16, repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dimension") == 0) d = static_cast<uint32_t>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--nodes") == 0) nodes = static_cast<uint32_t>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--repeats") == 0) repeats = static_cast<uint32_t>(std::atol(argv[i + 1]));
  }
  std::string dir = (std::filesystem::temp_directory_path() / "edgefl-audit-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    std::printf("cannot make a temporary folder\n");
    return 1;
  }
  std::vector<float> model(d, 0.5f);
  const std::vector<double> direction(d, 0.25);
  std::printf("d = %u, %u updates a round, best of %u rounds\n\n", d, nodes, repeats);
  std::printf("| updates | keyed | update bytes | audit ms/round | memcpy ms (same bytes) | ratio |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const auto& [name, update_bytes] : {std::pair<const char*, size_t>{"dense", 4ull * d},
                                           std::pair<const char*, size_t>{"sign", (d + 7) / 8}}) {
    const std::vector<uint8_t> update(update_bytes + 120, 7);
    std::vector<uint8_t> sink(update.size() + 4ull * d + 8ull * d);
    for (const bool keyed : {false, true}) {
      edgefl::AuditTrail trail;
      const std::vector<uint8_t> key = keyed ? edgefl::AuditKeyFromSecret("bench") : std::vector<uint8_t>();
      if (!trail.Open(dir, "[run]\n", key).ok()) return 1;
      double best_audit = 1e30, best_copy = 1e30;
      for (uint32_t r = 0; r < repeats; ++r) {
        trail.Begin(model);
        model[r % d] += 1.0f;  // a different model each round
        const auto start = Clock::now();
        for (uint32_t n = 0; n < nodes; ++n) trail.AddUpdate(n, r, update);
        if (!trail.Record(r, 0.1, direction, model).ok()) return 1;
        best_audit = std::min(best_audit, Ms(start));
        const auto copy_start = Clock::now();
        for (uint32_t n = 0; n < nodes; ++n) std::memcpy(sink.data(), update.data(), update.size());
        std::memcpy(sink.data(), model.data(), 4ull * d);
        std::memcpy(sink.data(), direction.data(), 8ull * d);
        best_copy = std::min(best_copy, Ms(copy_start));
        if (sink[r % sink.size()] == 255) std::printf(" ");  // keep the copies
      }
      std::printf("| %s | %s | %zu | %.2f | %.2f | %.1f |\n", name, keyed ? "yes" : "no", update.size(), best_audit,
                  best_copy, best_audit / best_copy);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
