// `edgefl verify RUN_FOLDER [--key coordinator.key]`: checks a run folder's
// audit.log chain and that model.bin and checkpoint.bin hold the models it
// recorded (runfiles/audit_trail.h).
#include <cstdio>

#include "runfiles/audit_trail.h"
#include "coordinator/run_replay.h"
#include "core/log.h"
#include "net/curve_keys.h"
#include "sim/commands.h"

namespace edgefl {

int VerifyRunFolder(const std::string& dir, const std::string& key_path, bool replay, const std::string& data_dir) {
  std::vector<uint8_t> key;
  if (!key_path.empty()) {
    CurveKeyPair pair;
    const Status read = ReadCurveKeys(key_path, /*need_secret=*/true, &pair);
    if (!read.ok()) {
      EDGEFL_LOG_ERROR("%s", read.message());
      return 2;
    }
    key = AuditKeyFromSecret(pair.secret_key);
  }
  AuditReport report;
  const Status status = VerifyRun(dir, key, &report);
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s: NOT verified: %s", dir.c_str(), status.message());
    return 1;
  }
  std::printf("%s: audit.log verified: %u rounds, %s\n", dir.c_str(), report.rounds,
              !report.keyed          ? "an unkeyed chain (every link checked)"
              : report.macs_checked ? "keyed, every MAC checked with the coordinator's key"
                                    : "keyed: links checked, MACs not (give --key to check them)");
  if (!report.last_model.empty()) std::printf("  last model: %s\n", report.last_model.c_str());
  std::printf("  model.bin: %s\n", report.model_checked ? "matches the chain" : "absent");
  std::printf("  checkpoint.bin: %s\n", report.checkpoint_checked ? "matches the chain" : "absent or before round 0");
  if (!replay) return 0;
  uint32_t rounds = 0;
  const Status replayed = ReplayRun(dir, data_dir, key, &rounds);
  if (!replayed.ok()) {
    EDGEFL_LOG_ERROR("%s: NOT verified by replay (%u rounds matched first): %s", dir.c_str(), rounds,
                     replayed.message());
    return 1;
  }
  std::printf("  replay: %u rounds taken again from updates.bin, every model as the chain recorded it\n", rounds);
  return 0;
}

}  // namespace edgefl
