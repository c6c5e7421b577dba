#include "coordinator/relay_loop.h"

#include <algorithm>
#include <cmath>

#include "core/log.h"

namespace edgefl {

using Event = RelayUpstream::Event;

RelayLoop::RelayLoop(Session& session, RelayUpstream& upstream, LocalNodes* local)
    : s_(session),
      upstream_(upstream),
      local_(local),
      intake_(session),
      broadcast_(session),
      cohort_(session.config),
      handler_(session, intake_, &broadcast_),
      partial_values_(session.dimension) {
  s_.transport.WakeOn(upstream_.handle());
}

Status RelayLoop::Poll(int64_t timeout_ms, Event* event) {
  handler_.PollOnce(std::max<int64_t>(timeout_ms, 0));
  const int64_t now = s_.clock.NowMs();
  EDGEFL_RETURN_IF_ERROR(upstream_.Drain(now, event));
  if (*event == Event::kBye) bye_from_above_ = true;
  const int64_t silent_after = std::max<int64_t>(s_.config.round.dead_after_ms, 3 * s_.config.round.heartbeat_ms);
  if (upstream_.joined() && now - upstream_.last_heard_ms() > silent_after) {
    return Status::Error(StatusCode::kUnavailable, "the coordinator above has been silent for %lld ms",
                         static_cast<long long>(now - upstream_.last_heard_ms()));
  }
  return Status::Ok();
}

Status RelayLoop::Run(const std::atomic<bool>& stop, RunOutcome* outcome) {
  const ExperimentConfig& config = s_.config;
  const RelayTopology& t = s_.topology;
  const auto stopped = [&] {
    s_.state.summary.stop_reason = "stopped by signal";
    *outcome = RunOutcome::kStopped;
    return Status::Ok();
  };
  const int64_t tick = std::min<int64_t>(config.round.heartbeat_ms, 100);
  Event event = Event::kNone;
  int64_t give_up = s_.clock.NowMs() + config.round.join_timeout_ms;
  while (!upstream_.joined()) {
    if (stop.load()) return stopped();
    if (s_.clock.NowMs() >= give_up) {
      return Status::Error(StatusCode::kTimeout, "the coordinator above did not welcome relay %u within %u ms",
                           t.group, config.round.join_timeout_ms);
    }
    EDGEFL_RETURN_IF_ERROR(Poll(tick, &event));
  }
  const uint32_t expected = s_.ExpectedParticipants();
  const uint32_t first = t.FirstNode(config.nodes);
  if (local_ != nullptr) {
    // In-process nodes are there from the start, and never lost.
    for (uint32_t id = first; id < first + expected; ++id) {
      s_.nodes[id].joined = s_.nodes[id].alive = true;
      s_.nodes[id].last_heard_ms = INT64_MAX / 2;
    }
  }
  EDGEFL_LOG_INFO("relay %u joined the coordinator above; waiting for its nodes %u..%u", t.group, first,
                  first + expected - 1);
  give_up = s_.clock.NowMs() + config.round.join_timeout_ms;
  Event next = Event::kNone;  // what came from above meanwhile
  while (s_.nodes.JoinedCount() < expected) {
    if (stop.load()) return stopped();
    if (s_.clock.NowMs() >= give_up) {
      return Status::Error(StatusCode::kTimeout, "only %u of relay %u's %u nodes joined within %u ms (missing: %s)",
                           s_.nodes.JoinedCount(), t.group, expected, config.round.join_timeout_ms,
                           s_.nodes.MissingIds(first, expected).c_str());
    }
    EDGEFL_RETURN_IF_ERROR(Poll(tick, &event));
    if (event != Event::kNone) next = event;
  }
  EDGEFL_LOG_INFO("relay %u: %u nodes joined, d = %u", t.group, expected, s_.dimension);
  rounds_start_ms_ = s_.clock.NowMs();
  for (;;) {
    while (next == Event::kNone) {
      if (stop.load()) return stopped();
      EDGEFL_RETURN_IF_ERROR(Poll(config.round.heartbeat_ms, &next));
      s_.nodes.DropSilent(s_.clock.NowMs(), config.round.dead_after_ms);
    }
    if (next == Event::kBye) {
      s_.state.summary.stop_reason = upstream_.bye_reason();
      *outcome = RunOutcome::kDone;
      return Status::Ok();
    }
    next = Event::kNone;
    EDGEFL_RETURN_IF_ERROR(RunRound(stop, &next));
    if (stop.load() && next == Event::kNone) return stopped();
  }
}

Status RelayLoop::RunRound(const std::atomic<bool>& stop, Event* next) {
  const ExperimentConfig& config = s_.config;
  const uint32_t round = upstream_.round();
  const std::span<const float> model = upstream_.model();
  std::copy(model.begin(), model.end(), s_.state.model.begin());
  s_.state.round = round;
  if (s_.config.round.downlink == DownlinkForm::kStep) {
    // The steps the model came by go on to this relay's nodes as they came;
    // a model that came whole goes whole.
    if (upstream_.came_whole()) {
      broadcast_.Keep(StepRecord{.version = round, .step_size = 0.0, .model_hash = 0, .parts = {},
                                 .message_bytes = 0, .whole = true});
    }
    for (StepRecord& record : upstream_.steps()) broadcast_.Keep(std::move(record));
    upstream_.steps().clear();
  }
  s_.OpenRound(round);
  s_.nodes.BeginRound(round);
  // The round's cohort, drawn as the root draws it: this relay's share of it.
  cohort_.DrawFromPopulation(round, &cohort_members_);
  auto member = cohort_members_.begin();
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
    NodeSlot& slot = s_.nodes[i];
    const bool drawn = member != cohort_members_.end() && *member == i;
    member += drawn;
    slot.participant = slot.participant && drawn;
    if (!slot.participant) continue;
    ++s_.round_metrics.participants;
    slot.round.outcome = NodeOutcome::kMissing;  // until an answer comes
  }
  const int64_t start = s_.clock.NowMs();
  if (local_ != nullptr) {
    ComputeLocally(round);
  } else {
    broadcast_.SendRound(round);
  }
  intake_.Begin(start);
  const int64_t deadline = start + config.round.deadline_ms * 9 / 10;
  while (!stop.load() && s_.clock.NowMs() < deadline && !intake_.Complete() && *next == Event::kNone) {
    EDGEFL_RETURN_IF_ERROR(
        Poll(std::min<int64_t>(deadline - s_.clock.NowMs(), config.round.heartbeat_ms), next));
    s_.nodes.DropSilent(s_.clock.NowMs(), config.round.dead_after_ms);
  }
  s_.collector.Close();
  RoundMetrics& metrics = s_.round_metrics;
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) metrics.missing += s_.nodes[i].round.outcome == NodeOutcome::kMissing;
  metrics.bytes_up = s_.collector.round_bytes_up();
  metrics.updates = s_.collector.count();
  metrics.node_loss = s_.collector.mean_node_loss();
  metrics.loss = NAN;  // a relay evaluates nothing
  metrics.grad_norm = NAN;
  metrics.test_loss = metrics.test_accuracy = NAN;
  if (*next != Event::kNone) {
    EDGEFL_LOG_WARN("relay %u: round %u ended above before its %u updates were in; not sent", s_.topology.group,
                    round, metrics.updates);
  } else if (metrics.updates == 0) {
    EDGEFL_LOG_WARN("relay %u: round %u: no update from its nodes by its deadline; nothing sent above",
                    s_.topology.group, round);
  } else if (!stop.load() || intake_.Complete()) {
    SendPartial();
  }
  metrics.time_s = static_cast<double>(s_.clock.NowMs() - rounds_start_ms_) / 1000.0;
  s_.recorder.Record(metrics);
  // In-process nodes have no link of their own: their figures are the row's.
  for (uint32_t i = 0; local_ == nullptr && i < s_.nodes.size(); ++i) {
    const NodeRoundMetrics& row = s_.nodes[i].round;
    if (row.bytes_down > 0 || row.bytes_up > 0) s_.recorder.RecordNode(row);
  }
  s_.state.FoldRound(metrics);
  s_.state.round = round + 1;
  return Status::Ok();
}

void RelayLoop::ComputeLocally(uint32_t round) {
  for (uint32_t id = 0; id < s_.nodes.size(); ++id) {
    // A long round (many nodes, a large d) keeps the coordinator above told
    // the relay is alive.
    if (id % 256 == 0) upstream_.KeepAlive(s_.clock.NowMs());
    if (!s_.nodes[id].participant) continue;
    const std::span<const uint8_t> bytes = local_->Compute(id, round, s_.state.model);
    const Status s = s_.CountAdded(id, bytes, s_.collector.TakeMessage(id, round, bytes));
    if (!s.ok()) handler_.Reject(id, "in-process node %u: %s", id, s.message());
  }
}

void RelayLoop::SendPartial() {
  codec::ExactPartial partial;
  s_.aggregator->ExportPartial(partial_values_, &partial);
  const double loss = s_.collector.mean_node_loss();
  const double grad_norm = s_.collector.mean_node_grad_norm();
  codec::UpdateHeader header{.node_id = s_.topology.group,
                             .loss = loss,
                             .grad_norm = grad_norm,
                             .compute_us = 0,
                             .weight = 1,
                             .control_delta = {}};
  codec::EncodeExactPartial(up_fbb_, s_.state.round, header, partial);
  if (!upstream_.Send(up_fbb_)) {
    EDGEFL_LOG_WARN("relay %u: round %u's partial could not be sent above", s_.topology.group, s_.state.round);
  }
}

void RelayLoop::SayBye(const char* reason) {
  s_.transport.WakeOn(nullptr);  // the nodes' Byes only, now
  handler_.SayBye(reason);
  if (!bye_from_above_ && upstream_.joined()) upstream_.SayBye(reason);
}

}  // namespace edgefl
