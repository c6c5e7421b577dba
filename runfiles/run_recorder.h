// RunRecorder: the run folder. Writes the resolved config at start, one
// metrics row a round (flushed, so a crash loses nothing already computed),
// checkpoints, and the model and summary at the end, whatever ended the
// run. A resumed run cuts the CSV files back to its checkpoint and appends.
// Not thread-safe.
//
//   <dir>/config.toml     every field of the experiment, defaults included
//   <dir>/metrics.csv     one row a round (columns in docs/outputs.md)
//   <dir>/nodes.csv       one row a node and round: its bytes each way and report
//   <dir>/checkpoint.bin  the round state, for --resume (checkpoint.h)
//   <dir>/model.bin       the final model (model_file.h)
//   <dir>/summary.toml    final loss, rounds, bytes, diverged-at, stop reason, model hash
//   <dir>/audit.log       the rounds as a hash chain (audit_trail.h)
//   <dir>/updates.bin     with --keep-updates: every aggregated update (update_log.h)
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>

#include "runfiles/audit_trail.h"
#include "runfiles/checkpoint.h"
#include "runfiles/update_log.h"
#include "experiment/experiment_config.h"
#include "core/status.h"

namespace edgefl {

struct RoundMetrics {
  uint32_t round = 0;
  double time_s = 0.0;       // since the first round started (joining excluded)
  double loss = 0.0;         // f(x) after the round's step, evaluated by the coordinator
  double grad_norm = 0.0;    // ||grad f(x)|| after the step
  double grad_max_abs = 0.0; // max_j |grad_j f(x)| after the step (not written to metrics.csv)
  double node_loss = 0.0;    // mean of the nodes' reported losses at the round's model
  double step_size = 0.0;    // eta_k (0 when the round made no step)
  double direction_norm = 0.0;
  double norm_estimate = NAN; // n_k of a normalising step rule (NaN otherwise)
  double l0 = NAN;           // the L0, L1 the step used or estimated (NaN when neither)
  double l1 = NAN;
  bool smoothness_estimated = false;  // l0, l1 from the online fit
  uint64_t bytes_up = 0;     // update messages received this round
  uint64_t bytes_down = 0;   // round-start messages sent this round
  uint32_t participants = 0; // nodes asked (the cohort, over-committed)
  uint32_t updates = 0;      // updates aggregated
  uint32_t late = 0;         // answers after the deadline, or after the round had its cohort's
  uint32_t dropped = 0;      // answers lost to round.dropout
  uint32_t missing = 0;      // asked nodes that never answered
  uint32_t rejected = 0;     // messages refused this round
  double test_loss = 0.0;    // data objectives: held-out loss (NaN otherwise)
  double test_accuracy = 0.0;  // data objectives: held-out accuracy (NaN otherwise)
  double epsilon = NAN;      // privacy spent by the end of the round, at privacy.delta (NaN without privacy)
  uint32_t version = 0;      // the model's version after the round: the steps taken so far
  // Buffered aggregation (async.mode = "buffered"): the updates the step
  // took (the buffer's fill), their staleness, and the updates refused as
  // staler than async.max_staleness. Sync rounds write 0 staleness.
  uint32_t buffer_fill = 0;
  double staleness_mean = 0.0;
  uint32_t staleness_max = 0;
  uint32_t stale = 0;
};

// What became of a node's part in a round (nodes.csv's outcome).
enum class NodeOutcome : uint8_t {
  kNotAsked,    // not in the cohort (a row only when it sent something)
  kMissing,     // asked, and no update came
  kCounted,     // its update was aggregated
  kLate,        // its update came after the deadline, or after the round had its cohort's
  kDropped,     // its update was lost to round.dropout
  kRefused,     // its update was refused (docs/outputs.md: the coordinator's log says why)
  kOverflowed,  // its values were too large to add (|v| >= 2^40 or not finite)
  kStale,       // buffered: its model was more than async.max_staleness versions old
};
const char* NodeOutcomeName(NodeOutcome outcome);

// One node's part of one round (nodes.csv).
struct NodeRoundMetrics {
  uint32_t round = 0;
  uint32_t node = 0;
  uint64_t bytes_up = 0;     // update messages from this node (also refused ones)
  uint64_t bytes_down = 0;   // the round start sent to it
  bool accepted = false;     // its update was aggregated
  double loss = 0.0;         // what the node reported
  double grad_norm = 0.0;
  uint32_t compute_us = 0;
  bool connection_lost = false;  // its connection closed while it was joined
  NodeOutcome outcome = NodeOutcome::kNotAsked;
  double arrival_s = NAN;    // its update's arrival after the round's start (buffered: its task's start):
                             // modelled (virtual clock) or measured
  uint32_t staleness = 0;    // buffered: versions made since its task's model (0 in sync rounds)
};

struct RunSummary {
  std::string stop_reason = "not started";
  uint32_t rounds = 0;            // rounds that ran
  uint32_t steps = 0;             // rounds that made a step (quorum reached)
  double initial_loss = 0.0;
  double final_loss = 0.0;
  double best_loss = 0.0;
  double tail_mean_loss = 0.0;    // mean loss over the last half of the rounds run
  double final_grad_norm = 0.0;
  int64_t diverged_at = -1;       // round, or -1
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
  uint64_t update_messages = 0;
  uint64_t rejected = 0;
  // Connections, as this coordinator process saw them (a resumed run counts
  // from its restart): joined nodes' connections that closed while they were
  // joined (a node process ended, or sent a message larger than the
  // transport takes), connections closed by the coordinator (too many that
  // had not joined, or a key speaking for another node), and handshakes that
  // failed (refused keys, broken or mismatched security).
  uint64_t connections_lost = 0;
  uint64_t connections_closed = 0;
  uint64_t handshakes_failed = 0;
  // Nodes whose replica could not take a step-form round start
  // (round.downlink = "step") and were sent the whole model on request.
  uint64_t model_requests = 0;
  double wall_time_s = 0.0;
  double payload_bits_per_coordinate = 0.0;  // theoretical, from the compressor
  double measured_bits_per_coordinate = 0.0; // update message bits / d, averaged over updates
  double omega = 0.0;                        // NaN for biased compressors
  uint64_t model_hash = 0;                   // the hash of model.bin's values (codec::ModelHash of the model)
  double final_test_accuracy = NAN;          // data objectives (NaN otherwise)
  double best_test_accuracy = NAN;
  double epsilon = NAN;                      // privacy spent, at privacy.delta (NaN without privacy)
  bool ok = true;                            // false when an error ended the run
};

class RunRecorder {
 public:
  // A fresh run: creates `dir` (and parents), writes config.toml and starts
  // metrics.csv and nodes.csv with their header lines.
  Status Open(const std::string& dir, const ExperimentConfig& config);
  // A run resumed after `rounds` rounds from `model` (its checkpoint's):
  // checks audit.log recorded that model there (else changes nothing), then
  // cuts audit.log, metrics.csv and nodes.csv back to those rounds and
  // appends to them. An empty `model` leaves audit.log as it is (a finished
  // run whose files are being completed: no round is added). The summary.toml and model.bin of an
  // earlier end of the run are removed, as they no longer describe it.
  Status Resume(const std::string& dir, uint32_t rounds, std::span<const float> model);
  void Record(const RoundMetrics& row);
  void RecordNode(const NodeRoundMetrics& row);
  // Flushes metrics.csv and nodes.csv to the disk, so that they hold every
  // round the checkpoint does, then writes checkpoint.bin.
  Status WriteCheckpoint(const Checkpoint& checkpoint);
  // Writes model.bin; *hash receives the hash of its values.
  Status WriteModel(std::span<const float> model, uint64_t* hash);
  Status Finish(const RunSummary& summary);
  const std::string& dir() const { return dir_; }
  // The chain's key (a coordinator with CURVE keys); set before Open or Resume.
  void set_audit_key(std::vector<uint8_t> key) { audit_key_ = std::move(key); }
  AuditTrail& audit() { return audit_; }
  // Keep every aggregated update in updates.bin; set before Open or Resume
  // (a resumed folder that holds one keeps it anyway).
  void set_keep_updates(bool keep) { keep_updates_ = keep; }
  // An update the round aggregated: into the audit chain, and updates.bin
  // when kept.
  Status AcceptedUpdate(uint32_t node, uint32_t round, std::span<const uint8_t> message);
  ~RunRecorder();

 private:
  Status OpenCsv(const char* name, const char* header, std::FILE** file);

  std::string dir_;
  std::FILE* metrics_ = nullptr;
  std::FILE* nodes_ = nullptr;
  AuditTrail audit_;
  std::vector<uint8_t> audit_key_;
  UpdateLog updates_;
  bool keep_updates_ = false;
};

// Reads a summary.toml back (for `edgefl run`'s table and for tests).
Status ReadSummary(const std::string& path, RunSummary* out);

}  // namespace edgefl
