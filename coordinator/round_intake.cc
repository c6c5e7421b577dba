#include "coordinator/round_intake.h"

#include <algorithm>

#include "core/log.h"
#include "experiment/link_model.h"

namespace edgefl {

RoundIntake::RoundIntake(Session& session)
    : s_(session), cohort_(session.config), virtual_(session.config.round.clock == RoundClock::kVirtual) {}

void RoundIntake::Begin(int64_t round_start_ms) {
  round_start_ms_ = round_start_ms;
  arrivals_.clear();
}

bool RoundIntake::Complete() const {
  // With over-commitment the round needs only its cohort's K; a dropped
  // answer never comes, so the round waits for the deadline as a real one would.
  if (s_.config.AskedPerRound() > s_.config.CohortSize() && !virtual_ &&
      s_.collector.count() >= s_.config.CohortSize()) {
    return true;
  }
  return s_.nodes.Outstanding() == 0 && s_.round_metrics.dropped == 0;
}

Status RoundIntake::OnUpdate(uint32_t node, uint32_t round, const wire::Update& update,
                             std::span<const uint8_t> message) {
  NodeSlot& slot = s_.nodes[node];
  // Under the virtual clock, which answers count is decided once all are in (ChooseHeld).
  if (virtual_) return s_.collector.Hold(node, round, update, message);
  EDGEFL_RETURN_IF_ERROR(s_.collector.Check(node, round, update, message.size()));
  slot.round.arrival_s = static_cast<double>(s_.clock.NowMs() - round_start_ms_) / 1000.0;
  if (cohort_.DropsOut(round, node)) {
    slot.answered = true;
    slot.round.outcome = NodeOutcome::kDropped;
    ++s_.round_metrics.dropped;
  } else if (s_.collector.count() >= s_.config.CohortSize()) {
    slot.answered = true;  // over-committed: the round had its K
    slot.round.outcome = NodeOutcome::kLate;
    ++s_.round_metrics.late;
  } else {
    return s_.CountAdded(node, message, s_.collector.Add(node, update));
  }
  return Status::Ok();
}

double RoundIntake::ChooseHeld(MessageHandler& handler) {
  const uint32_t round = s_.state.round;
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
    NodeRoundMetrics& row = s_.nodes[i].round;
    if (!s_.collector.holds(i)) continue;
    row.arrival_s = RoundSeconds(ResolveLink(s_.config.LinkOf(i)), static_cast<double>(row.bytes_down),
                                 static_cast<double>(s_.collector.held(i).size()));
    if (cohort_.DropsOut(round, i)) {
      row.outcome = NodeOutcome::kDropped;  // never arrives
      ++s_.round_metrics.dropped;
      continue;
    }
    arrivals_.push_back({.seconds = row.arrival_s, .node = i});
  }
  const double seconds = ChooseArrivals(arrivals_, s_.round_metrics.participants, s_.config.CohortSize(),
                                        s_.config.round.deadline_ms / 1000.0);
  // Added in node order: the sums are exact and order-free, and so is the rest.
  std::sort(arrivals_.begin(), arrivals_.end(), [](const Arrival& a, const Arrival& b) { return a.node < b.node; });
  for (const Arrival& arrival : arrivals_) {
    if (arrival.counts) {
      const Status counted =
          s_.CountAdded(arrival.node, s_.collector.held(arrival.node), s_.collector.TakeHeld(arrival.node));
      if (!counted.ok()) handler.Reject(arrival.node, "%s", counted.message());
    } else {
      s_.nodes[arrival.node].round.outcome = NodeOutcome::kLate;
      ++s_.round_metrics.late;
    }
  }
  return seconds;
}

}  // namespace edgefl
