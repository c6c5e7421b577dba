#include "coordinator/privacy_ledger.h"
#include "coordinator/run_replay.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/downlink_step.h"
#include "runfiles/audit_trail.h"
#include "experiment/experiment_config.h"
#include "coordinator/model_evaluator.h"
#include "coordinator/node_table.h"
#include "runfiles/run_folder.h"
#include "strategy/server_step.h"
#include "coordinator/update_collector.h"
#include "runfiles/update_log.h"
#include "maths/vector_norms.h"
#include "schemas/codec/wire.h"

namespace edgefl {

Status ReplayRun(const std::string& dir, const std::string& data_dir, std::span<const uint8_t> key,
                 uint32_t* rounds) {
  *rounds = 0;
  std::vector<ExperimentConfig> configs;
  EDGEFL_RETURN_IF_ERROR(LoadExperimentFile(dir + "/" + kConfigFile, {}, &configs));
  const ExperimentConfig& config = configs[0];
  if (config.async.Buffered()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s is a buffered run (async.mode = \"buffered\"): its steps "
                         "weigh each update by its staleness, which %s does not keep, so it cannot be replayed; its "
                         "audit chain is still checked without --replay", dir.c_str(), kUpdateLogFile);
  }
  std::vector<AuditRound> chain;
  EDGEFL_RETURN_IF_ERROR(ReadAuditRounds(dir, key, &chain));
  std::vector<KeptUpdate> kept;
  if (!std::filesystem::exists(dir + "/" + kUpdateLogFile)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s/%s does not exist: the run kept no updates (start it "
                         "with --keep-updates to replay it)", dir.c_str(), kUpdateLogFile);
  }
  EDGEFL_RETURN_IF_ERROR(ReadUpdateLog(dir + "/" + kUpdateLogFile, &kept));

  // The coordinator's objects, as Coordinator builds them.
  const uint32_t d = config.objective.dimension;
  std::unique_ptr<ModelEvaluator> evaluator;
  EDGEFL_RETURN_IF_ERROR(ModelEvaluator::Create(config, data_dir, &evaluator));
  std::vector<float> model(d);
  evaluator->InitialModel(model);
  evaluator->Evaluate(model);
  const bool online = config.step.smoothness == SmoothnessSource::kOnline;
  std::vector<float> gradient_before(evaluator->gradient().begin(), evaluator->gradient().end());
  auto aggregator = MakeAggregator(AggregatorAsRun(config), config.compressor.kind, config.nodes, d,
                                   codec::UpdateSizeLimit(config.compressor, d, config.local.HasControl()), config.seed);
  NodeTable nodes(config.nodes);
  for (uint32_t i = 0; i < config.nodes; ++i) nodes[i].joined = nodes[i].alive = true;
  UpdateCollector collector(config.compressor, d, *aggregator, nodes, config.aggregator.weighting);
  ServerStep step(config.step, config.server, StepFactsOf(config), d);
  std::vector<double> direction(d);
  StepRecord step_record;  // round.downlink = "step": the step as the nodes were sent it
  std::vector<double> step_scratch;

  size_t next = 0;
  for (uint32_t r = 0; r < chain.size(); ++r) {
    collector.Open(r);
    nodes.BeginRound(r);
    for (; next < kept.size() && kept[next].round <= r; ++next) {
      const KeptUpdate& u = kept[next];
      const wire::Envelope* envelope = nullptr;
      Status s = u.round == r ? codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(u.message.data()), u.bytes},
                                                    &envelope)
                              : Status::Error(StatusCode::kMalformed, "it is out of round order");
      if (s.ok() && envelope->body_type() != wire::Body::Update) {
        s = Status::Error(StatusCode::kMalformed, "it is not an Update");
      }
      if (s.ok() && u.node >= config.nodes) s = Status::Error(StatusCode::kMalformed, "no such node");
      if (s.ok()) s = collector.Take(u.node, r, *envelope->body_as_Update(), u.bytes);
      if (!s.ok()) {
        return Status::Error(StatusCode::kMalformed, "%s: the update of node %u in round %u: %s", kUpdateLogFile,
                             u.node, u.round, s.message());
      }
    }
    collector.Close();
    if (chain[r].stepped && collector.count() == 0) {
      return Status::Error(StatusCode::kMalformed, "round %u made a step, and %s holds none of its updates (was the "
                           "run started with --keep-updates?)", r, kUpdateLogFile);
    }
    if (chain[r].stepped) {
      aggregator->Finish(direction);
      AddCentralNoise(config, r, collector.count(), direction);
      TakeServerStep(config, step, {r, direction, EuclideanNorm(direction), collector.mean_node_grad_norm()},
                     aggregator->vote_levels(), model, &step_record, step_scratch);
    }
    if (online) {
      evaluator->Evaluate(model);
      if (chain[r].stepped) step.ObserveGradients(gradient_before, evaluator->gradient());
      std::copy(evaluator->gradient().begin(), evaluator->gradient().end(), gradient_before.begin());
    }
    if (ToHex(ModelDigest(model)) != chain[r].after) {
      return Status::Error(StatusCode::kMalformed, "round %u: the model replayed from %s and %s is not the one %s "
                           "recorded", r, kConfigFile, kUpdateLogFile, kAuditFile);
    }
    *rounds = r + 1;
  }
  if (next < kept.size()) {
    return Status::Error(StatusCode::kMalformed, "%s holds updates of round %u, after the chain's last round",
                         kUpdateLogFile, kept[next].round);
  }
  return Status::Ok();
}

}  // namespace edgefl
