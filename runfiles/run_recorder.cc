#include "runfiles/run_recorder.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "runfiles/atomic_file.h"
#include "runfiles/model_file.h"
#include "runfiles/run_folder.h"

#define TOML_EXCEPTIONS 1
#include <limits>

#include <toml++/toml.h>

namespace edgefl {

namespace {

constexpr const char* kMetricsHeader =
    "round,time_s,loss,grad_norm,node_loss,step_size,direction_norm,bytes_up,bytes_down,participants,updates,"
    "rejected,test_loss,test_accuracy,norm_estimate,l0,l1,smoothness,late,dropped,missing,epsilon,version,buffer_fill,"
    "staleness_mean,staleness_max,stale\n";
// What ReadSummary takes for an absent figure: a double, so that value_or
// reads each figure as a double (NAN, a float, would round every one to f32).
constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kNodesHeader = "round,node,bytes_up,bytes_down,accepted,loss,grad_norm,compute_us,connection_lost,outcome,arrival_s,staleness\n";

}  // namespace

// Opens `name` for appending, and starts it with `header` when it is empty.
Status RunRecorder::OpenCsv(const char* name, const char* header, std::FILE** file) {
  const std::string path = dir_ + "/" + name;
  *file = std::fopen(path.c_str(), "a");
  if (*file == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path.c_str(), std::strerror(errno));
  }
  std::fseek(*file, 0, SEEK_END);
  if (std::ftell(*file) == 0) std::fputs(header, *file);
  if (std::fflush(*file) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status RunRecorder::Open(const std::string& dir, const ExperimentConfig& config) {
  dir_ = dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Error(StatusCode::kInvalidArgument, "cannot create run folder '%s': %s", dir.c_str(), ec.message().c_str());
  const std::string config_toml = ToToml(config);
  EDGEFL_RETURN_IF_ERROR(WriteFileAtomically(dir + "/" + kConfigFile, config_toml));
  EDGEFL_RETURN_IF_ERROR(audit_.Open(dir, config_toml, audit_key_));
  if (keep_updates_) EDGEFL_RETURN_IF_ERROR(updates_.Open(dir));
  // Empty files: a fresh run starts its CSV files anew.
  for (const char* name : {kMetricsFile, kNodesFile}) {
    std::FILE* file = std::fopen((dir + "/" + name).c_str(), "w");
    if (file == nullptr) {
      return Status::Error(StatusCode::kInvalidArgument, "cannot write %s/%s: %s", dir.c_str(), name,
                           std::strerror(errno));
    }
    std::fclose(file);
  }
  EDGEFL_RETURN_IF_ERROR(OpenCsv(kMetricsFile, kMetricsHeader, &metrics_));
  return OpenCsv(kNodesFile, kNodesHeader, &nodes_);
}

Status RunRecorder::Resume(const std::string& dir, uint32_t rounds, std::span<const float> model) {
  dir_ = dir;
  std::vector<uint8_t> config_toml;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(dir + "/" + kConfigFile, &config_toml));
  if (!model.empty()) {
    EDGEFL_RETURN_IF_ERROR(audit_.Resume(dir, rounds, std::string(config_toml.begin(), config_toml.end()), audit_key_, model));
    if (keep_updates_ || std::filesystem::exists(dir + "/" + kUpdateLogFile)) {
      EDGEFL_RETURN_IF_ERROR(updates_.Resume(dir, rounds));
    }
  }
  EDGEFL_RETURN_IF_ERROR(KeepRows(dir + "/" + kMetricsFile, rounds, /*one_row_per_round=*/true));
  EDGEFL_RETURN_IF_ERROR(KeepRows(dir + "/" + kNodesFile, rounds, /*one_row_per_round=*/false));
  const std::string checkpoint_temporary = std::string(kCheckpointFile) + ".tmp";  // a crash's
  for (const std::string& stale : {std::string(kSummaryFile), std::string(kModelFile), checkpoint_temporary}) {
    std::error_code ec;
    std::filesystem::remove(dir + "/" + stale, ec);
    if (ec) {
      return Status::Error(StatusCode::kInvalidArgument, "cannot remove %s/%s: %s", dir.c_str(), stale.c_str(),
                           ec.message().c_str());
    }
  }
  EDGEFL_RETURN_IF_ERROR(OpenCsv(kMetricsFile, kMetricsHeader, &metrics_));
  return OpenCsv(kNodesFile, kNodesHeader, &nodes_);
}

Status RunRecorder::WriteCheckpoint(const Checkpoint& checkpoint) {
  if (metrics_ != nullptr) EDGEFL_RETURN_IF_ERROR(SyncFile(metrics_, dir_ + "/" + kMetricsFile));
  if (nodes_ != nullptr) EDGEFL_RETURN_IF_ERROR(SyncFile(nodes_, dir_ + "/" + kNodesFile));
  EDGEFL_RETURN_IF_ERROR(audit_.Sync());
  EDGEFL_RETURN_IF_ERROR(updates_.Sync());
  return WriteCheckpointFile(dir_ + "/" + kCheckpointFile, checkpoint);
}

Status RunRecorder::AcceptedUpdate(uint32_t node, uint32_t round, std::span<const uint8_t> message) {
  audit_.AddUpdate(node, round, message);
  return updates_.Append(round, node, message);
}

Status RunRecorder::WriteModel(std::span<const float> model, uint64_t* hash) {
  return WriteModelFile(dir_ + "/" + kModelFile, model, hash);
}

const char* NodeOutcomeName(NodeOutcome outcome) {
  switch (outcome) {
    case NodeOutcome::kNotAsked:
      return "not-asked";
    case NodeOutcome::kMissing:
      return "missing";
    case NodeOutcome::kCounted:
      return "counted";
    case NodeOutcome::kLate:
      return "late";
    case NodeOutcome::kDropped:
      return "dropped";
    case NodeOutcome::kRefused:
      return "refused";
    case NodeOutcome::kOverflowed:
      return "overflowed";
    case NodeOutcome::kStale:
      return "stale";
  }
  return "?";
}

void RunRecorder::Record(const RoundMetrics& r) {
  if (metrics_ == nullptr) return;
  std::fprintf(metrics_, "%u,%.6f,%.9g,%.9g,%.9g,%.9g,%.9g,%llu,%llu,%u,%u,%u,", r.round, r.time_s, r.loss,
               r.grad_norm, r.node_loss, r.step_size, r.direction_norm, static_cast<unsigned long long>(r.bytes_up),
               static_cast<unsigned long long>(r.bytes_down), r.participants, r.updates, r.rejected);
  if (std::isfinite(r.test_accuracy)) {
    std::fprintf(metrics_, "%.9g,%.6f,", r.test_loss, r.test_accuracy);
  } else {
    std::fprintf(metrics_, ",,");  // synthetic objectives have no test set
  }
  // What the step rule computed eta_k from: n_k, and L0, L1 with where they came from.
  if (std::isfinite(r.norm_estimate)) std::fprintf(metrics_, "%.9g", r.norm_estimate);
  if (std::isfinite(r.l0)) {
    std::fprintf(metrics_, ",%.9g,%.9g,%s", r.l0, r.l1, r.smoothness_estimated ? "estimated" : "declared");
  } else {
    std::fprintf(metrics_, ",,,");
  }
  std::fprintf(metrics_, ",%u,%u,%u,", r.late, r.dropped, r.missing);
  if (std::isfinite(r.epsilon)) std::fprintf(metrics_, "%.9g", r.epsilon);
  std::fprintf(metrics_, ",%u,%u,%.6g,%u,%u\n", r.version, r.buffer_fill, r.staleness_mean, r.staleness_max, r.stale);
  std::fflush(metrics_);
}

void RunRecorder::RecordNode(const NodeRoundMetrics& r) {
  if (nodes_ == nullptr) return;
  std::fprintf(nodes_, "%u,%u,%llu,%llu,%d,%.9g,%.9g,%u,%d,%s,", r.round, r.node,
               static_cast<unsigned long long>(r.bytes_up), static_cast<unsigned long long>(r.bytes_down),
               r.accepted ? 1 : 0, r.loss, r.grad_norm, r.compute_us, r.connection_lost ? 1 : 0,
               NodeOutcomeName(r.outcome));
  if (std::isfinite(r.arrival_s)) std::fprintf(nodes_, "%.6f", r.arrival_s);
  std::fprintf(nodes_, ",%u\n", r.staleness);
  std::fflush(nodes_);
}

Status RunRecorder::Finish(const RunSummary& s) {
  // On the disk before the summary, and before the final checkpoint that
  // follows it (WriteCheckpoint no longer has them open to flush).
  Status synced;
  for (auto [file, name] : {std::pair{&metrics_, kMetricsFile}, std::pair{&nodes_, kNodesFile}}) {
    if (*file == nullptr) continue;
    const Status s_file = SyncFile(*file, dir_ + "/" + name);
    if (synced.ok()) synced = s_file;
    std::fclose(*file);
    *file = nullptr;
  }
  EDGEFL_RETURN_IF_ERROR(synced);
  toml::table t{{"stop_reason", s.stop_reason},
                {"ok", s.ok},
                {"rounds", s.rounds},
                {"steps", s.steps},
                {"initial_loss", s.initial_loss},
                {"final_loss", s.final_loss},
                {"best_loss", s.best_loss},
                {"tail_mean_loss", s.tail_mean_loss},
                {"final_grad_norm", s.final_grad_norm},
                {"diverged_at", s.diverged_at},
                {"bytes_up", static_cast<int64_t>(s.bytes_up)},
                {"bytes_down", static_cast<int64_t>(s.bytes_down)},
                {"update_messages", static_cast<int64_t>(s.update_messages)},
                {"rejected", static_cast<int64_t>(s.rejected)},
                {"connections_lost", static_cast<int64_t>(s.connections_lost)},
                {"connections_closed", static_cast<int64_t>(s.connections_closed)},
                {"handshakes_failed", static_cast<int64_t>(s.handshakes_failed)},
                {"model_requests", static_cast<int64_t>(s.model_requests)},
                {"wall_time_s", s.wall_time_s},
                {"payload_bits_per_coordinate", s.payload_bits_per_coordinate},
                {"measured_bits_per_coordinate", s.measured_bits_per_coordinate}};
  if (std::isfinite(s.omega)) t.insert("omega", s.omega);
  if (std::isfinite(s.epsilon)) t.insert("epsilon", s.epsilon);
  if (std::isfinite(s.final_test_accuracy)) {
    t.insert("final_test_accuracy", s.final_test_accuracy);
    t.insert("best_test_accuracy", s.best_test_accuracy);
  }
  char hash[24];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(s.model_hash));
  t.insert("model_hash", hash);
  std::ostringstream text;
  text << t << "\n";
  return WriteFileAtomically(dir_ + "/" + kSummaryFile, text.str());
}

RunRecorder::~RunRecorder() {
  if (metrics_ != nullptr) std::fclose(metrics_);
  if (nodes_ != nullptr) std::fclose(nodes_);
}

Status ReadSummary(const std::string& path, RunSummary* out) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot read %s: %.*s", path.c_str(),
                         static_cast<int>(e.description().size()), e.description().data());
  }
  out->stop_reason = t["stop_reason"].value_or(std::string("unknown"));
  out->ok = t["ok"].value_or(false);
  out->rounds = t["rounds"].value_or(0u);
  out->steps = t["steps"].value_or(0u);
  out->initial_loss = t["initial_loss"].value_or(kAbsent);
  out->final_loss = t["final_loss"].value_or(kAbsent);
  out->best_loss = t["best_loss"].value_or(kAbsent);
  out->tail_mean_loss = t["tail_mean_loss"].value_or(kAbsent);
  out->final_grad_norm = t["final_grad_norm"].value_or(kAbsent);
  out->diverged_at = t["diverged_at"].value_or(int64_t{-1});
  out->bytes_up = static_cast<uint64_t>(t["bytes_up"].value_or(int64_t{0}));
  out->bytes_down = static_cast<uint64_t>(t["bytes_down"].value_or(int64_t{0}));
  out->update_messages = static_cast<uint64_t>(t["update_messages"].value_or(int64_t{0}));
  out->rejected = static_cast<uint64_t>(t["rejected"].value_or(int64_t{0}));
  out->connections_lost = static_cast<uint64_t>(t["connections_lost"].value_or(int64_t{0}));
  out->connections_closed = static_cast<uint64_t>(t["connections_closed"].value_or(int64_t{0}));
  out->handshakes_failed = static_cast<uint64_t>(t["handshakes_failed"].value_or(int64_t{0}));
  out->model_requests = static_cast<uint64_t>(t["model_requests"].value_or(int64_t{0}));
  out->wall_time_s = t["wall_time_s"].value_or(0.0);
  out->payload_bits_per_coordinate = t["payload_bits_per_coordinate"].value_or(0.0);
  out->measured_bits_per_coordinate = t["measured_bits_per_coordinate"].value_or(0.0);
  out->omega = t["omega"].value_or(kAbsent);
  out->final_test_accuracy = t["final_test_accuracy"].value_or(kAbsent);
  out->best_test_accuracy = t["best_test_accuracy"].value_or(kAbsent);
  out->epsilon = t["epsilon"].value_or(kAbsent);
  out->model_hash = std::strtoull(t["model_hash"].value_or(std::string("0")).c_str(), nullptr, 16);
  return Status::Ok();
}

}  // namespace edgefl
