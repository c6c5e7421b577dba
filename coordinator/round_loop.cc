#include "coordinator/round_loop.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "coordinator/divergence.h"
#include "coordinator/update_rows.h"
#include "core/log.h"
#include "maths/vector_norms.h"

namespace edgefl {
namespace {

constexpr uint32_t kMaxFailedRounds = 3;

}  // namespace

RoundLoop::RoundLoop(Session& session, ServerStep& step)
    : s_(session),
      step_(step),
      intake_(session),
      buffered_(session),
      broadcast_(session),
      handler_(session, session.config.async.Buffered() ? static_cast<UpdateSink&>(buffered_) : intake_, &broadcast_),
      cohort_(session.config),
      privacy_(session.config),
      virtual_clock_(session.config.round.clock == RoundClock::kVirtual),
      buffered_mode_(session.config.async.Buffered()),
      steps_down_(session.config.round.downlink == DownlinkForm::kStep),
      direction_(session.dimension),
      gradient_before_(session.config.step.smoothness == SmoothnessSource::kOnline ? session.dimension : 0) {}

Status RoundLoop::JoinAll(const std::atomic<bool>& stop) {
  const ExperimentConfig& config = s_.config;
  const int64_t give_up = s_.clock.NowMs() + config.round.join_timeout_ms;
  const uint32_t expected = s_.ExpectedParticipants();
  const char* who = s_.topology.root() ? "relays" : "nodes";
  while (!stop.load() && s_.nodes.JoinedCount() < expected && s_.clock.NowMs() < give_up) {
    handler_.PollOnce(give_up - s_.clock.NowMs());
  }
  if (stop.load()) return Status::Error(StatusCode::kUnavailable, "stopped while %s were joining", who);
  if (s_.nodes.JoinedCount() < expected) {
    return Status::Error(StatusCode::kTimeout, "only %u of %u %s joined within %u ms (missing: %s)",
                         s_.nodes.JoinedCount(), expected, who, config.round.join_timeout_ms,
                         s_.nodes.MissingIds(s_.topology.FirstNode(config.nodes), expected).c_str());
  }
  char joined[96];
  if (s_.topology.root()) {
    std::snprintf(joined, sizeof(joined), "%u relays joined, each serving %u of the %u nodes", expected,
                  s_.topology.NodesPerRelay(config.nodes), config.nodes);
  } else {
    std::snprintf(joined, sizeof(joined), "%u nodes joined", config.nodes);
  }
  EDGEFL_LOG_INFO("%s: %s, d = %u, %s, %s, %u rounds", config.name.c_str(), joined, s_.dimension,
                  codec::CompressorName(config.compressor.kind), AggregatorName(config.aggregator.kind),
                  config.rounds);
  EDGEFL_LOG_INFO("%s: %s connected from %s", config.name.c_str(), who,
                  s_.transport.connections().NodeAddresses().c_str());
  if (config.CohortSize() < config.nodes || config.round.availability < 1.0 || config.round.dropout > 0.0) {
    EDGEFL_LOG_INFO("each round asks %u of the %u nodes (cohort %u, over-commit %g, availability %g, dropout %g), "
                    "%s clock",
                    config.AskedPerRound(), config.nodes, config.CohortSize(), config.round.over_commit,
                    config.round.availability, config.round.dropout, virtual_clock_ ? "virtual" : "wall");
  }
  if (buffered_mode_) {
    const AsyncConfig& a = config.async;
    EDGEFL_LOG_INFO("buffered: %u nodes train at once, a step every %u updates, staleness weight %s, at most %u "
                    "versions stale, %s clock%s",
                    a.concurrency > 0 ? a.concurrency : config.nodes, a.buffer,
                    codec::NameIn(StalenessWeightingNames(), a.staleness), a.max_staleness,
                    virtual_clock_ ? "virtual" : "wall",
                    virtual_clock_ ? "" : ": which updates a step takes depends on the machine's timing, so the "
                                          "model is not reproducible bit for bit; round.clock = \"virtual\" makes it so");
  }
  if (config.AskedPerRound() > config.CohortSize() && !virtual_clock_) {
    EDGEFL_LOG_WARN("round.over_commit with the wall clock: which %u answers count depends on the machine's timing, "
                    "so the model is not reproducible bit for bit; round.clock = \"virtual\" makes it so",
                    config.CohortSize());
  }
  if (KeepsEveryUpdate(config.aggregator.kind)) {
    const double bytes = static_cast<double>(UpdateRows::BytesFor(config.nodes, s_.dimension));
    const bool mib = bytes >= (1 << 20);
    EDGEFL_LOG_INFO("%s keeps every update of a round: %.3g %s for %u updates of %u values",
                    AggregatorName(config.aggregator.kind), bytes / (mib ? 1 << 20 : 1 << 10), mib ? "MiB" : "KiB",
                    config.nodes, s_.dimension);
  }
  return Status::Ok();
}

Status RoundLoop::RunRounds(const std::atomic<bool>& stop, const std::function<Status()>& checkpoint,
                            RunOutcome* outcome) {
  const ExperimentConfig& config = s_.config;
  RunState& state = s_.state;
  rounds_start_ms_ = s_.clock.NowMs() - static_cast<int64_t>(std::llround(state.rounds_time_s * 1000.0));
  const uint32_t progress_every = std::max(1u, config.rounds / 10);
  const auto stopped = [&] {
    state.summary.stop_reason = "stopped by signal";
    *outcome = RunOutcome::kStopped;
    return Status::Ok();
  };
  while (state.round < config.rounds) {
    if (stop.load()) return stopped();
    RoundMetrics m;
    const RoundEnd end = RunRound(stop, &m);
    // A round a signal cut short is not recorded: a resumed run runs it again.
    if (end == RoundEnd::kCutShort) return stopped();
    if (end == RoundEnd::kTooFewNodes && buffered_mode_) {
      return Status::Error(StatusCode::kUnavailable, "step %u: no task out and no live node to send one to for %u ms "
                           "(round.join_timeout_ms)", state.round, config.round.join_timeout_ms);
    }
    if (end == RoundEnd::kTooFewNodes) {
      return Status::Error(StatusCode::kUnavailable, "round %u: only %u of %u nodes available, quorum needs %u",
                           state.round, m.participants, config.nodes, config.QuorumCount());
    }
    const uint32_t round = state.round;
    state.FoldRound(m);
    state.round = round + 1;
    mid_round_ = false;
    if ((round + 1) % progress_every == 0 || round + 1 == config.rounds) LogProgress(m);
    if (const char* why = DivergenceOf(config, state, m, s_.overflows_in_round > 0)) {
      EDGEFL_LOG_WARN("%s: diverged in round %u: %s", config.name.c_str(), round, why);
      state.summary.diverged_at = round;
      state.summary.stop_reason = "diverged";
      *outcome = RunOutcome::kDiverged;
      return Status::Ok();
    }
    // A round counts as failed only when it lacked its quorum: a rule may
    // choose a step of 0 without the run taking it for lost nodes.
    if (end == RoundEnd::kNoStep) {
      if (++state.failed_in_a_row >= kMaxFailedRounds) {
        return Status::Error(StatusCode::kUnavailable, "quorum of %u updates not reached in %u rounds in a row",
                             config.QuorumCount(), kMaxFailedRounds);
      }
    } else if (end == RoundEnd::kStep) {
      state.failed_in_a_row = 0;
      ++state.summary.steps;
    }
    if (config.target_loss > 0.0 && m.loss <= config.target_loss) {
      state.summary.stop_reason = "target loss reached";
      *outcome = RunOutcome::kTargetReached;
      return Status::Ok();
    }
    if (config.checkpoint_every > 0 && state.round % config.checkpoint_every == 0 && state.round < config.rounds) {
      EDGEFL_RETURN_IF_ERROR(checkpoint());
    }
  }
  state.summary.stop_reason = "all rounds done";
  *outcome = RunOutcome::kDone;
  return Status::Ok();
}

void RoundLoop::StartRound() {
  broadcast_.SendRound(s_.state.round);
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
    NodeSlot& slot = s_.nodes[i];
    if (!slot.participant) continue;
    s_.round_metrics.participants += slot.serves;
    slot.round.outcome = NodeOutcome::kMissing;  // until an answer comes
  }
  intake_.Begin(s_.clock.NowMs());
}

uint32_t RoundLoop::SelectRelays(uint32_t round) {
  cohort_.DrawFromPopulation(round, &cohort_members_);
  const uint32_t per_relay = s_.topology.NodesPerRelay(s_.config.nodes);
  uint32_t asked = 0;
  auto member = cohort_members_.begin();
  for (uint32_t g = 0; g < s_.nodes.size(); ++g) {
    const auto end = std::lower_bound(member, cohort_members_.end(), (g + 1) * per_relay);
    NodeSlot& slot = s_.nodes[g];
    slot.serves = static_cast<uint32_t>(end - member);
    slot.participant = slot.participant && slot.serves > 0;
    if (slot.participant) asked += slot.serves;
    member = end;
  }
  return asked;
}

void RoundLoop::OpenRound() {
  s_.OpenRound(s_.state.round);
  s_.recorder.audit().Begin(s_.state.model);
}

RoundLoop::RoundEnd RoundLoop::RunRound(const std::atomic<bool>& stop, RoundMetrics* m) {
  OpenRound();
  if (buffered_mode_) return RunBufferedStep(stop, m);
  const ExperimentConfig& config = s_.config;
  const uint32_t round = s_.state.round;

  // The cohort, from the live nodes. Too few: lost nodes get
  // join_timeout_ms to rejoin before the run gives up (a restarted node's
  // id frees once its old connection is found dead, transport.h).
  const auto select = [&] {
    s_.nodes.BeginRound(round);
    return s_.topology.root() ? SelectRelays(round) : cohort_.Select(round, s_.nodes);
  };
  uint32_t asked = select();
  // Fewer than the quorum drawn available (with round.availability < 1, as
  // Poisson sampling under central DP, a round may draw none): a round
  // without a step, as a real one would be, and no wait for lost nodes.
  const uint32_t drawn = cohort_.AvailableCount(round);
  const bool few_drawn = drawn < config.QuorumCount();
  const int64_t give_up = s_.clock.NowMs() + config.round.join_timeout_ms;
  while (!few_drawn && asked < config.QuorumCount() && !stop.load() && s_.clock.NowMs() < give_up) {
    handler_.PollOnce(std::min<int64_t>(give_up - s_.clock.NowMs(), config.round.heartbeat_ms));
    asked = select();
  }
  if (asked < config.QuorumCount() && !few_drawn) {
    s_.collector.Close();
    m->participants = asked;
    return RoundEnd::kTooFewNodes;
  }
  StartRound();

  // Collect until the round is complete or the deadline.
  const int64_t deadline = s_.clock.NowMs() + config.round.deadline_ms;
  while (!stop.load() && s_.clock.NowMs() < deadline && !intake_.Complete()) {
    handler_.PollOnce(std::min<int64_t>(deadline - s_.clock.NowMs(), config.round.heartbeat_ms));
    s_.nodes.DropSilent(s_.clock.NowMs(), config.round.dead_after_ms);
  }
  s_.collector.Close();
  if (stop.load() && !intake_.Complete()) return RoundEnd::kCutShort;
  const double round_seconds = virtual_clock_ ? intake_.ChooseHeld(handler_) : 0.0;

  RoundMetrics& metrics = s_.round_metrics;
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
    if (s_.nodes[i].round.outcome == NodeOutcome::kMissing) metrics.missing += s_.nodes[i].serves;
  }
  metrics.bytes_up = s_.collector.round_bytes_up();
  metrics.updates = s_.collector.count();
  const bool stepped = s_.collector.count() >= config.QuorumCount();
  if (!stepped && few_drawn) {
    EDGEFL_LOG_INFO("round %u: %u nodes drawn available, quorum needs %u: no step", round, drawn,
                    config.QuorumCount());
  } else if (!stepped) {
    EDGEFL_LOG_WARN("round %u: %u updates, quorum needs %u: no step", round, s_.collector.count(),
                    config.QuorumCount());
  }
  StepAndEvaluate(stepped);
  Record(stepped,
         virtual_clock_ ? s_.state.rounds_time_s + round_seconds
                        : static_cast<double>(s_.clock.NowMs() - rounds_start_ms_) / 1000.0,
         m);
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
    const NodeRoundMetrics& row = s_.nodes[i].round;
    if (row.bytes_down > 0 || row.bytes_up > 0) s_.recorder.RecordNode(row);
  }
  if (stepped) return RoundEnd::kStep;
  return few_drawn ? RoundEnd::kFewDrawn : RoundEnd::kNoStep;
}

RoundLoop::RoundEnd RoundLoop::RunBufferedStep(const std::atomic<bool>& stop, RoundMetrics* m) {
  const ExperimentConfig& config = s_.config;
  buffered_.BeginStep();
  // Until the buffer is full. Nodes lost meanwhile have their work handed
  // to idle ones; with none out and none to send to, lost nodes get
  // join_timeout_ms to come back.
  int64_t idle_since = s_.clock.NowMs();
  for (;;) {
    buffered_.TakeDue(handler_);
    if (buffered_.Full() || stop.load()) break;
    handler_.PollOnce(config.round.heartbeat_ms);
    s_.nodes.DropSilent(s_.clock.NowMs(), config.round.dead_after_ms);
    buffered_.Dispatch();
    if (buffered_.busy() > 0) {
      idle_since = s_.clock.NowMs();
    } else if (s_.clock.NowMs() - idle_since > config.round.join_timeout_ms) {
      s_.collector.Close();
      return RoundEnd::kTooFewNodes;
    }
  }
  s_.collector.Close();
  if (!buffered_.Full()) return RoundEnd::kCutShort;
  RoundMetrics& metrics = s_.round_metrics;
  metrics.bytes_up = s_.collector.round_bytes_up();
  metrics.updates = s_.collector.count();
  buffered_.Describe(&metrics);
  StepAndEvaluate(/*stepped=*/true);
  Record(/*stepped=*/true,
         virtual_clock_ ? buffered_.now_s() : static_cast<double>(s_.clock.NowMs() - rounds_start_ms_) / 1000.0, m);
  return RoundEnd::kStep;
}

void RoundLoop::Record(bool stepped, double time_s, RoundMetrics* m) {
  RoundMetrics& metrics = s_.round_metrics;
  const uint32_t round = metrics.round;
  metrics.epsilon = privacy_.EpsilonAfter(round + 1, s_.state.summary.steps + (stepped ? 1 : 0));
  metrics.version = s_.state.summary.steps + (stepped ? 1 : 0);
  metrics.time_s = time_s;
  s_.recorder.Record(metrics);
  if (const Status audited = s_.recorder.audit().Record(
          round, metrics.step_size, stepped ? std::span<const double>(direction_) : std::span<const double>(),
          s_.state.model);
      !audited.ok()) {
    EDGEFL_LOG_WARN("round %u: %s", round, audited.message());
  }
  *m = metrics;
}

void RoundLoop::StepAndEvaluate(bool stepped) {
  RoundMetrics& metrics = s_.round_metrics;
  const uint32_t round = metrics.round;
  if (stepped) {
    mid_round_ = true;  // the model has moved; state.round not yet
    s_.aggregator->Finish(direction_);
    if (buffered_mode_) {
      const double scale = buffered_.step_scale();  // FedBuff's (1/K) sum_i w(s_i) g_i
      if (scale != 1.0) {
        for (double& v : direction_) v *= scale;
      }
    }
    AddCentralNoise(s_.config, round, s_.collector.count(), direction_);
    if (s_.control) s_.control->Step(s_.state.control);
    NoteAggregation(round);
    metrics.direction_norm = EuclideanNorm(direction_);
    metrics.step_size = TakeServerStep(s_.config, step_,
                                       {round, direction_, metrics.direction_norm, s_.collector.mean_node_grad_norm()},
                                       s_.aggregator->vote_levels(), s_.state.model, &step_record_, step_scratch_);
    if (steps_down_) broadcast_.Keep(std::move(step_record_));
    const StepConfig& rule = s_.config.step;
    if (UsesNormEstimate(rule.rule)) metrics.norm_estimate = step_.norm_estimate();
    if (UsesSmoothness(rule.rule) || rule.smoothness == SmoothnessSource::kOnline) {
      metrics.l0 = step_.l0();
      metrics.l1 = step_.l1();
      metrics.smoothness_estimated = step_.smoothness_estimated();
    }
    metrics.node_loss = s_.collector.mean_node_loss();
  } else if (steps_down_) {
    broadcast_.KeepNoStep(round + 1);
  }
  const Evaluation evaluation = s_.evaluator->Evaluate(s_.state.model);
  if (stepped) step_.ObserveGradients(gradient_before_, s_.evaluator->gradient());
  CopyGradient();
  metrics.loss = evaluation.loss;
  metrics.grad_norm = evaluation.grad_norm;
  metrics.grad_max_abs = evaluation.grad_max_abs;
  metrics.test_loss = evaluation.test_loss;
  metrics.test_accuracy = evaluation.test_accuracy;
}

void RoundLoop::CopyGradient() {
  if (s_.config.step.smoothness != SmoothnessSource::kOnline) return;
  const std::span<const float> gradient = s_.evaluator->gradient();
  std::copy(gradient.begin(), gradient.end(), gradient_before_.begin());
}

void RoundLoop::NoteAggregation(uint32_t round) {
  bounded_updates_ += s_.aggregator->bounded();
  if (!s_.aggregator->fell_back()) return;
  if (fallback_rounds_++ == 0) {
    const AggregatorConfig& a = s_.config.aggregator;
    EDGEFL_LOG_WARN("round %u: %u updates, and krum needs 2f + 3 = %u (aggregator.byzantine = %u): this round and "
                    "any other with too few take the coordinate-wise median instead",
                    round, s_.collector.count(), 2 * a.byzantine + 3, a.byzantine);
  }
}

void RoundLoop::SayWhatAggregationDid() const {
  if (bounded_updates_ > 0) {
    EDGEFL_LOG_INFO("a norm bound of %g (aggregator.max_update_norm, or privacy.clip_norm under central DP) scaled "
                    "down %llu updates",
                    AggregatorAsRun(s_.config).max_update_norm, static_cast<unsigned long long>(bounded_updates_));
  }
  if (fallback_rounds_ > 0) {
    EDGEFL_LOG_INFO("krum took the coordinate-wise median in %u rounds, for want of 2f + 3 updates",
                    fallback_rounds_);
  }
}

void RoundLoop::LogProgress(const RoundMetrics& m) const {
  char accuracy[32] = "";
  if (std::isfinite(m.test_accuracy)) std::snprintf(accuracy, sizeof(accuracy), "  test acc %.3f", m.test_accuracy);
  EDGEFL_LOG_INFO("%s: %s %u/%u  loss %.4g%s  step %.3g  up %llu B  down %llu B", s_.config.name.c_str(),
                  buffered_mode_ ? "step" : "round", m.round + 1, s_.config.rounds, m.loss, accuracy, m.step_size,
                  static_cast<unsigned long long>(m.bytes_up), static_cast<unsigned long long>(m.bytes_down));
}

void RoundLoop::SayBye(const char* reason) { handler_.SayBye(reason); }

}  // namespace edgefl
